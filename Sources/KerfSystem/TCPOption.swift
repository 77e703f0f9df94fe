internal import CKerfSystem

/// TCP socket options Swift's Glibc module leaves out.
public enum TCPOption {
    /// `TCP_CORK`: while set, the socket sends only full segments; clearing it sends what is
    /// left (nginx's `tcp_nopush`).
    public static let cork = kerf_tcp_cork()
}

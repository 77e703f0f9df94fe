internal import CKerfSystem

/// Socket-level options Swift's Glibc module leaves out.
public enum SocketOption {
    /// `SO_REUSEPORT`: several sockets listen on one port, and the kernel shares new
    /// connections out between them.
    public static let reusePort = kerf_so_reuseport()
}

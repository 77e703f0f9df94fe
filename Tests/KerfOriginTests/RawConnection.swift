import Foundation
import KerfTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the origin, for requests no HTTP client would send (trickled or
/// oversized heads, many idle connections). Blocking calls with a receive timeout.
final class RawConnection {
    private let descriptor: Int32
    private var closed = false

    /// - Parameter receiveBuffer: `SO_RCVBUF` set before connecting (it bounds the window the
    ///   server may fill), else the system's.
    init(port: Int, receiveTimeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "connect failed: errno \(errno)"])
        }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - receiveTimeout.rounded(.down)) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends the bytes; false when the peer has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        send(bytes: Array(text.utf8))
    }

    /// Sends the bytes (all of them, in as many writes as it takes); false when the peer has
    /// closed the connection.
    @discardableResult
    func send(bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// Reads what arrives until the peer closes, `count` bytes arrived, or the receive timeout
    /// passes. `closed` tells whether the peer closed.
    func receive(atLeast count: Int = 1) -> (text: String, closed: Bool) {
        let (bytes, closed) = receiveBytes(atLeast: count)
        return (String(decoding: bytes, as: UTF8.self), closed)
    }

    /// The same, as bytes.
    func receiveBytes(atLeast count: Int = 1) -> (bytes: [UInt8], closed: Bool) {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while data.count < count {
            let read = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if read == 0 { return (data, true) }
            if read < 0 {
                let failure = errno
                lastReceiveError = failure
                // A signal handler interrupting the wait is not the end of the connection.
                if failure == EINTR { continue }
                return (data, failure == ECONNRESET)
            }
            data += buffer[0..<read]
        }
        return (data, false)
    }

    /// The errno of the last `recv` that failed (EAGAIN: the receive timeout passed), or nil.
    private(set) var lastReceiveError: Int32?

    /// The server's end of this connection in `/proc/net/tcp`: its state (hexadecimal, 01
    /// ESTABLISHED) and its send and receive queues, or nil when the kernel lists no such socket.
    func serverEnd(serverPort: Int) -> String? {
        serverEndFields(serverPort: serverPort).map { "state \($0[3]), queues \($0[4])" }
    }

    /// The fields of the server's end's line in `/proc/net/tcp` (the state is the fourth, the
    /// queues the fifth), or nil when the kernel lists no such socket.
    private func serverEndFields(serverPort: Int) -> [Substring]? {
        let local = String(format: ":%04X", serverPort), remote = String(format: ":%04X", localPort)
        // Read to the end (the table is longer than one read when many sockets are open).
        let data = FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() ?? Data()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 4, fields[1].hasSuffix(local), fields[2].hasSuffix(remote) { return fields }
        }
        return nil
    }

    /// Whether the peer has closed or reset the connection, looked at without reading or
    /// waiting (a FIN behind unread bytes waits for them: see `waitForServerClose`).
    var peerClosed: Bool {
        // POLLRDHUP (Linux; Glibc's module leaves it out).
        let readHangUp: Int16 = 0x2000
        var entry = pollfd(fd: descriptor, events: readHangUp, revents: 0)
        return poll(&entry, 1, 0) > 0 && entry.revents & (readHangUp | Int16(POLLHUP | POLLERR)) != 0
    }

    /// This end's port.
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits, without reading, until the server's end of this connection (on `serverPort`) has
    /// closed: its socket has left ESTABLISHED in `/proc/net/tcp` (a FIN queued behind bytes the
    /// client has not read cannot reach the client). Throws `TimedOut` after `timeout`.
    func waitForServerClose(serverPort: Int, timeout: Duration) async throws {
        var seen = false
        try await waitUntil("the server's end of the connection from port \(localPort) to close", timeout: timeout, poll: .milliseconds(50)) {
            let established = serverEndFields(serverPort: serverPort)?[3] == "01"
            // Closed once seen open: a line never seen counts as not found yet, not as closed.
            if established { seen = true }
            return seen && !established
        }
    }

    /// Half-closes the connection: the peer reads the end of the stream after what was sent.
    func finishSending() {
        guard !closed else { return }
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Closes the connection (once; later calls do nothing).
    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(descriptor)
    }

    deinit { close() }
}

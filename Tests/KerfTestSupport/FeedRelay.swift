import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A live feed for tests that need lossless input: a program (ffmpeg) writes MPEG-TS to its
/// standard output, which is copied to TCP peers (origins listening on `tcp://…?listen=1`) in
/// whole 188-byte packets. Unlike a UDP feed nothing is dropped on a busy machine, and a peer
/// connected later gets the stream from where it is then, as a late UDP receiver would. The
/// program runs until `stop()`.
public final class FeedRelay: @unchecked Sendable {
    private let process: ChildProcess
    private let lock = NSLock()
    private var peers: [Int32] = []

    /// Starts `executable` (looked up in PATH when it has no slash) with `arguments`, which must
    /// write MPEG-TS to standard output (`-f mpegts pipe:1`).
    public init(_ executable: String, _ arguments: [String]) throws {
        // stdin is a pipe held open: ffmpeg reads commands from a terminal-like stdin otherwise.
        process = try ChildProcess(executable, arguments, stdin: .pipe, stdout: .pipe)
        guard let handle = process.stdout else { throw CommandError(message: "\(executable) has no output pipe") }
        Thread.detachNewThread { [self] in copy(from: handle) }
    }

    /// Connects to a peer listening on `port` (retrying until it listens, up to `timeout`)
    /// and sends it the stream from the next packet on.
    public func connect(port: Int, timeout: Duration = .seconds(30)) async throws {
        let descriptor = try await waitFor("a listener on port \(port)", timeout: timeout, poll: .milliseconds(50)) { () -> Int32? in
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected == 0 { return descriptor }
            Glibc.close(descriptor)
            return nil
        }
        lock.withLock { peers.append(descriptor) }
    }

    /// Kills the program and closes the connections (the peers see the end of the stream).
    public func stop() {
        process.kill()
        process.waitUntilExit()
        lock.withLock {
            for peer in peers { Glibc.close(peer) }
            peers = []
        }
    }

    deinit { stop() }

    private func copy(from handle: FileHandle) {
        var pending = [UInt8]()
        while true {
            let data = handle.availableData
            if data.isEmpty { return }
            pending += data
            let whole = pending.count - pending.count % 188
            guard whole > 0 else { continue }
            lock.withLock {
                peers.removeAll { peer in
                    var sent = 0
                    while sent < whole {
                        let count = pending.withUnsafeBytes { send(peer, $0.baseAddress! + sent, whole - sent, Int32(MSG_NOSIGNAL)) }
                        if count <= 0 {
                            Glibc.close(peer)
                            return true
                        }
                        sent += count
                    }
                    return false
                }
            }
            pending.removeFirst(whole)
        }
    }
}

/// A loopback TCP port free at the time of the call, chosen by the kernel: for listeners a test
/// must name in advance (an origin's `tcp://…?listen=1` input, ffmpeg serving SRT or RTMP).
/// Random ports collide with whatever else runs on a shared machine.
public func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw CommandError(message: "no free loopback port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

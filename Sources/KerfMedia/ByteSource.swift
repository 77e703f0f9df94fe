/// A reader of bytes that are not reachable by URL (an RTMP publisher's FLV stream, an HTTP
/// body, a buffer in memory), handed to libavformat through AVIOContext read callbacks.
public protocol ByteSource: AnyObject {
    /// Copies up to `buffer.count` bytes into `buffer` and returns how many; 0 means the end of
    /// the stream. May block until data is available. Throws when the source fails.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Moves the read position to `offset` bytes from the start. Returns `false` when the source
    /// cannot seek (live streams); the demuxer then reads sequentially.
    func seek(to offset: Int64) throws -> Bool
    /// Total length in bytes, when known.
    var size: Int64? { get }
}

/// A `ByteSource` over bytes held in memory.
public final class MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<position + count]))
        }
        position += count
        return count
    }

    public func seek(to offset: Int64) throws -> Bool {
        guard offset >= 0, offset <= Int64(bytes.count) else { return false }
        position = Int(offset)
        return true
    }

    public var size: Int64? { Int64(bytes.count) }
}

import KerfMedia

/// Reads an FLV byte stream (an `FLVPipe`) back as tags: how the ingest looks at a publisher's
/// first tags to choose between libavformat's FLV demuxer and `EnhancedRTMPSource`. While
/// `recording`, the bytes read are kept so the demuxer can be given them from the start.
package final class FLVTagReader {
    package struct Tag {
        /// 8 audio, 9 video, 18 script data.
        package var type: UInt8
        /// Milliseconds (RTMP's 32-bit timestamp).
        package var timestamp: UInt32
        var payload: [UInt8]
    }

    private let source: any ByteSource
    private var readHeader = false
    var recording = true {
        didSet { if !recording { recorded = [] } }
    }
    package private(set) var recorded: [UInt8] = []
    /// Bytes read so far.
    package private(set) var count = 0
    /// The largest tag accepted (the RTMP server's message limit bounds it already).
    static let maximumTagSize = 16 << 20

    package init(source: any ByteSource) {
        self.source = source
    }

    /// The next tag; nil at the end of the stream.
    /// - Throws: `RTMPError` `.flv` for bytes that are not FLV or a tag over the limit; what
    ///   the source throws.
    package func next() throws -> Tag? {
        if !readHeader {
            guard let header = try read(13) else { return nil }
            guard header.starts(with: [0x46, 0x4C, 0x56]) else { throw RTMPError(.flv, "not an FLV stream") }
            readHeader = true
        }
        guard let head = try read(11) else { return nil }
        let size = Int(head[1]) << 16 | Int(head[2]) << 8 | Int(head[3])
        guard size <= Self.maximumTagSize else { throw RTMPError(.flv, "FLV tag of \(size) bytes") }
        let timestamp = UInt32(head[7]) << 24 | UInt32(head[4]) << 16 | UInt32(head[5]) << 8 | UInt32(head[6])
        guard let payload = try read(size), try read(4) != nil else { return nil }
        return Tag(type: head[0], timestamp: timestamp, payload: payload)
    }

    /// Exactly `count` bytes, or nil when the stream ends first.
    private func read(_ wanted: Int) throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        while filled < wanted {
            let got = try bytes.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if got == 0 { return nil }
            filled += got
        }
        count += wanted
        if recording { recorded += bytes }
        return bytes
    }
}

/// What was read ahead, then the rest of a source: the FLV demuxer reads the publisher's stream
/// from its first byte after the ingest has looked at its first tags.
package final class ReplayedByteSource: ByteSource {
    private var prefix: [UInt8]
    private var position = 0
    private let rest: any ByteSource

    package init(prefix: [UInt8], rest: any ByteSource) {
        self.prefix = prefix
        self.rest = rest
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard position < prefix.count else { return try rest.read(into: buffer) }
        let count = min(buffer.count, prefix.count - position)
        prefix.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + count])) }
        position += count
        if position == prefix.count { prefix = [] ; position = 0 }
        return count
    }

    package func seek(to offset: Int64) throws -> Bool { false }

    package var size: Int64? { nil }
}

/// ID3v2 tags (id3.org ID3v2.4.0 structure, §3.1) as timed metadata carries them.
package enum ID3Tag {
    /// The tag FFmpeg read from a timed ID3 PES, whole again. FFmpeg 5.1's MPEG-TS demuxer takes
    /// the first 5 bytes of every stream_type 0x15 PES payload for a metadata access unit cell
    /// header (ISO/IEC 13818-1 §2.12.4), but the usual carriage (Apple's HLS timed metadata) puts
    /// the ID3 tag first: those 5 bytes are "ID3" and the version. They are put back when the
    /// rest is the remainder of a tag header and its frames (`isTag` as version 4, else 3). Nil
    /// when the bytes are no ID3 tag either way.
    package static func repaired(_ bytes: [UInt8]) -> [UInt8]? {
        if isTag(bytes) { return bytes }
        for version: UInt8 in [4, 3] {
            let candidate = Array("ID3".utf8) + [version, 0] + bytes
            if isTag(candidate) { return candidate }
        }
        return nil
    }

    /// Whether `bytes` is one ID3v2.3 or v2.4 tag: the header's size is what follows it, and
    /// its frames (sizes counted as its version counts them: syncsafe in 2.4) fill it exactly,
    /// up to zero padding.
    static func isTag(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 10, bytes.starts(with: Array("ID3".utf8)), [3, 4].contains(bytes[3]),
              let size = syncsafe(bytes[6..<10]) else { return false }
        let flags = bytes[5]
        // A v2.4 footer (flag 0x10) adds 10 bytes the size does not count.
        let footer = bytes[3] == 4 && flags & 0x10 != 0 ? 10 : 0
        guard size == bytes.count - 10 - footer else { return false }
        // Unsynchronised (0x80) or with an extended header (0x40): the sizes are what can be checked.
        if flags & 0xC0 != 0 { return true }
        let end = bytes.count - footer
        var offset = 10
        while offset + 10 <= end {
            let id = bytes[offset..<(offset + 4)]
            if id.allSatisfy({ $0 == 0 }) { break }  // padding
            let field = bytes[(offset + 4)..<(offset + 8)]
            guard id.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }),
                  let frameSize = bytes[3] == 4 ? syncsafe(field) : field.reduce(0, { $0 << 8 | Int($1) }),
                  offset + 10 + frameSize <= end else { return false }
            offset += 10 + frameSize
        }
        // What follows the last frame is padding (zero bytes), of any length.
        return bytes[offset..<end].allSatisfy { $0 == 0 }
    }

    /// An ID3v2.4 tag of user-defined text frames (TXXX, UTF-8: §4.2.6 of the frames
    /// document), one per description and value, in order.
    package static func userText(_ frames: [(description: String, value: String)]) -> [UInt8] {
        func syncsafe(_ n: Int) -> [UInt8] { [UInt8((n >> 21) & 0x7F), UInt8((n >> 14) & 0x7F), UInt8((n >> 7) & 0x7F), UInt8(n & 0x7F)] }
        var body: [UInt8] = []
        for frame in frames {
            let content: [UInt8] = [3] + Array(frame.description.utf8) + [0] + Array(frame.value.utf8)
            body += Array("TXXX".utf8) + syncsafe(content.count) + [0, 0] + content
        }
        return Array("ID3".utf8) + [4, 0, 0] + syncsafe(body.count) + body
    }

    /// A 28-bit syncsafe integer (four bytes whose high bits are 0).
    private static func syncsafe(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.allSatisfy({ $0 & 0x80 == 0 }) else { return nil }
        return bytes.reduce(0) { $0 << 7 | Int($1) }
    }
}

/// The protected form of an init segment (ISO/IEC 23001-7 §4, §8): the sample entry becomes
/// `encv`/`enca` wrapping the original with a `sinf`; with a clear lead the original entry
/// follows as entry 2, which clear fragments name in their `tfhd` (as Shaka Packager does);
/// optionally a `pssh` closes the `moov`.
extension InitSegment {
    /// - Parameters:
    ///   - sinf: the `sinf` box to append to the first sample entry.
    ///   - isVideo: `encv` for video, `enca` for audio.
    ///   - clearEntry: also keep the original entry, as entry 2.
    ///   - pssh: boxes appended to `moov`.
    /// - Returns: the new bytes and the original sample entry type ("avc1", "mp4a"…).
    static func protect(_ bytes: [UInt8], isVideo: Bool, sinf: (String) -> [UInt8], clearEntry: Bool,
                        pssh: [UInt8]) throws(PackagerError) -> (bytes: [UInt8], originalFormat: String) {
        var format: String?
        let path = ["moov", "trak", "mdia", "minf", "stbl", "stsd"]
        var result: [UInt8] = []
        for box in Boxes.topLevel(bytes) {
            var slice = Array(bytes[box.offset..<(box.offset + box.size)])
            if box.type == "moov" {
                slice = rewrite(slice, path: path[1...]) { stsd in
                    // stsd: header, version/flags, entry_count, entries.
                    guard stsd.count >= 16 + 8, let entry = Boxes.topLevel(Array(stsd[16...])).first else { return stsd }
                    let original = Array(stsd[(16 + entry.offset)..<(16 + entry.offset + entry.size)])
                    format = entry.type
                    var protected = original
                    protected.replaceSubrange(4..<8, with: Array((isVideo ? "encv" : "enca").utf8))
                    protected += sinf(entry.type)
                    setSize(&protected)
                    var out = Array(stsd[0..<12])
                    let count = clearEntry ? 2 : 1
                    out += [0, 0, 0, UInt8(count)]
                    out += protected
                    if clearEntry { out += original }
                    setSize(&out)
                    return out
                }
                if !pssh.isEmpty {
                    slice += pssh
                    setSize(&slice)
                }
            }
            result += slice
        }
        guard let format else {
            throw PackagerError(.unsupportedInput, "the init segment has no sample entry to protect")
        }
        return (result, format)
    }

    /// Rewrites the box at `path` below `box` (a container) with `transform`, fixing the sizes
    /// of every container on the way.
    private static func rewrite(_ box: [UInt8], path: ArraySlice<String>, _ transform: ([UInt8]) -> [UInt8]) -> [UInt8] {
        guard let name = path.first else { return transform(box) }
        var out = Array(box[0..<8])
        for child in Boxes.topLevel(Array(box[8...])) {
            let bytes = Array(box[(8 + child.offset)..<(8 + child.offset + child.size)])
            out += child.type == name ? rewrite(bytes, path: path.dropFirst(), transform) : bytes
        }
        setSize(&out)
        return out
    }

    private static func setSize(_ box: inout [UInt8]) {
        let size = UInt32(box.count)
        box[0] = UInt8(size >> 24); box[1] = UInt8((size >> 16) & 0xff); box[2] = UInt8((size >> 8) & 0xff); box[3] = UInt8(size & 0xff)
    }
}

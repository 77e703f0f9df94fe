internal import CFFmpeg

/// An owned `AVDictionary` built from Swift options; the caller frees `pointer` with
/// `av_dict_free` (libav functions may replace it with the entries they did not consume).
struct Dictionary {
    var pointer: OpaquePointer?

    init(_ options: [String: String]) {
        for (key, value) in options.sorted(by: { $0.key < $1.key }) {
            av_dict_set(&pointer, key, value, 0)
        }
    }

    /// The entries of a libav dictionary as Swift strings.
    static func tags(_ dictionary: OpaquePointer?) -> [String: String] {
        var result: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let next = av_dict_get(dictionary, "", entry, AV_DICT_IGNORE_SUFFIX) {
            result[String(cString: next.pointee.key)] = String(cString: next.pointee.value)
            entry = next
        }
        return result
    }

    /// The keys left in a dictionary after a libav call consumed the ones it knew.
    static func keys(_ dictionary: OpaquePointer?) -> [String] { tags(dictionary).keys.sorted() }
}

/// Base64 (RFC 4648 §4) with padding: `cenc:pssh`, `mspr:pro`, `data:` URIs, CPIX values.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    public static func encode(_ bytes: [UInt8]) -> String {
        var text = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                text.append(position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 0x3f] : "=")
            }
            index += 3
        }
        return text
    }

    /// Decodes base64 text; white space is ignored, padding is optional. Nil when the text has
    /// other characters or a length no encoding gives.
    public static func decode(_ text: String) -> [UInt8]? {
        var values: [Int] = []
        var padding = 0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "A"..."Z": values.append(Int(scalar.value) - 65)
            case "a"..."z": values.append(Int(scalar.value) - 97 + 26)
            case "0"..."9": values.append(Int(scalar.value) - 48 + 52)
            case "+", "-": values.append(62)
            case "/", "_": values.append(63)
            case "=": padding += 1
            case " ", "\n", "\r", "\t": continue
            default: return nil
            }
            if padding > 0 && scalar != "=" { return nil }
        }
        guard padding <= 2, values.count % 4 != 1 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index < values.count {
            let group = values[index..<min(index + 4, values.count)]
            let value = group.enumerated().reduce(0) { $0 | $1.element << (18 - 6 * $1.offset) }
            for position in 0..<(group.count - 1) { bytes.append(UInt8((value >> (16 - 8 * position)) & 0xff)) }
            index += 4
        }
        return bytes
    }
}

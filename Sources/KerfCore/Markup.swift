/// HTML and XML text written by hand (pages, reports, PlayReady headers).
public enum Markup {
    /// `text` with `&`, `<`, `>` and `"` escaped, for element text and quoted attribute values.
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}

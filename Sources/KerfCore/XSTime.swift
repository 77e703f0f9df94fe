/// xs:duration as MPDs use it, read as seconds (xs:dateTime: `UTCTime.parseXSDateTime`).
public enum XSTime {
    /// An xs:duration ("PT1H2M3.5S", "P1DT2H") in seconds; months and years are not accepted
    /// (their length is not fixed). Nil when malformed or negative.
    public static func duration(_ text: String) -> Double? {
        var rest = Substring(text.trimming(while: { $0 == " " || $0 == "\n" || $0 == "\t" }))
        guard rest.first == "P" else { return nil }
        rest = rest.dropFirst()
        var total = 0.0, inTime = false, number = "", sawComponent = false
        for character in rest {
            switch character {
            case "T": guard !inTime, number.isEmpty else { return nil }; inTime = true
            case "0"..."9", ".": number.append(character)
            default:
                guard let value = Double(number), number.count <= 24 else { return nil }
                number = ""
                sawComponent = true
                switch (character, inTime) {
                case ("D", false): total += value * 86_400
                case ("H", true): total += value * 3600
                case ("M", true): total += value * 60
                case ("S", true): total += value
                default: return nil
                }
            }
        }
        guard number.isEmpty, sawComponent, total.isFinite else { return nil }
        return total
    }
}

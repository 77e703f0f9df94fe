import KerfCore

/// The XML Schema time types MPDs use (xs:duration, xs:dateTime), read as seconds.
enum XSTime {
    /// An xs:duration ("PT1H2M3.5S", "P1DT2H") in seconds; months and years are not accepted
    /// (their length is not fixed). Nil when malformed or negative.
    static func duration(_ text: String) -> Double? {
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

    /// An xs:dateTime ("2026-11-24T21:00:00.5Z", "…+01:00"; no zone means UTC) in seconds
    /// since 1970.
    static func dateTime(_ text: String) -> Double? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 19, utf8.count <= 40, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
              utf8[10] == UInt8(ascii: "T"), utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":") else { return nil }
        func int(_ range: Range<Int>) -> Int? { Int(String(decoding: utf8[range], as: UTF8.self)) }
        guard let year = int(0..<4), let month = int(5..<7), let day = int(8..<10), let hour = int(11..<13),
              let minute = int(14..<16), (1...12).contains(month), (1...31).contains(day), hour <= 24, minute < 60 else { return nil }
        var end = 19
        while end < utf8.count, utf8[end] == UInt8(ascii: ".") || (utf8[end] >= 0x30 && utf8[end] <= 0x39) { end += 1 }
        guard let second = Double(String(decoding: utf8[17..<end], as: UTF8.self)), second < 61 else { return nil }
        var offset = 0.0
        let zone = String(decoding: utf8[end...], as: UTF8.self)
        if zone.count == 6, let sign = zone.first, sign == "+" || sign == "-",
           let h = Int(zone.dropFirst().prefix(2)), let m = Int(zone.suffix(2)) {
            offset = Double(h * 3600 + m * 60) * (sign == "+" ? 1 : -1)
        } else if !(zone.isEmpty || zone == "Z") {
            return nil
        }
        return UTCTime.epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second) - offset
    }
}

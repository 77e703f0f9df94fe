#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time as seconds since 1970-01-01T00:00:00Z, and the two textual forms Kerf reads
/// and writes: HTTP's IMF-fixdate (RFC 9110 §5.6.7, "Sun, 06 Nov 1994 08:49:37 GMT") and
/// xs:dateTime ("2026-11-24T21:00:00.123Z", as MPDs and UTCTiming use). Proleptic Gregorian.
public enum UTCTime {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday

    /// The system's real-time clock.
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Seconds since 1970 of a UTC date and time (month 1-12).
    public static func epochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Double) -> Double {
        // Days from civil: a year that starts in March, so leap days fall at its end.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Double(days * 86_400 + hour * 3600 + minute * 60) + second
    }

    /// The calendar date and clock time of whole seconds since 1970 (the inverse of
    /// `epochSeconds`); `weekday` indexes `weekdays`.
    static func components(_ seconds: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, dayOfYear - (153 * mp + 2) / 5 + 1,
                secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60, ((days % 7) + 7) % 7)
    }

    /// Parses an IMF-fixdate; nil when malformed or out of range.
    public static func parseHTTPDate(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[1].count == 2, parts[3].count == 4, parts[4].count == 8,
              let day = Int(parts[1]), let year = Int(parts[3]), (1...31).contains(day),
              let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2]) else { return nil }
        return epochSeconds(year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: Double(clock[2]))
    }

    /// Whole seconds since 1970 as an IMF-fixdate.
    public static func httpDate(_ seconds: Int64) -> String {
        let c = components(seconds)
        return "\(weekdays[c.weekday]), \(two(c.day)) \(months[c.month - 1]) \(c.year) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
    }

    /// Seconds since 1970 as an xs:dateTime in UTC with milliseconds, truncated (a microsecond
    /// of slack keeps 21.52, stored as 21.519999…, at .520).
    public static func xsDateTime(_ seconds: Double) -> String {
        let whole = Int64((seconds + 1e-6).rounded(.down))
        let millis = max(0, min(999, Int((seconds - Double(whole)) * 1000 + 1e-3)))
        let c = components(whole)
        return "\(c.year)-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second)).\(String(millis + 1000).dropFirst())Z"
    }

    /// An xs:dateTime ("2026-11-24T21:00:00.5Z", "…+01:00"; no zone means UTC) in seconds
    /// since 1970.
    public static func parseXSDateTime(_ text: String) -> Double? {
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
        return epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second) - offset
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// A point or span on a media timeline: an integer count of ticks at `timescale` ticks per
/// second. This is the only representation of time in Kerf; conversions between timescales are
/// explicit (`rescaled(to:rounding:)`) and exact where the arithmetic allows.
public struct MediaTime: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// Ticks since the timeline's origin (may be negative: B-frame decode times before zero).
    public var value: Int64
    /// Ticks per second; always positive.
    public var timescale: Int64

    /// How to round when a value does not fall on a tick of the target timescale.
    public enum Rounding: Sendable {
        case down, up, nearest
    }

    public init(value: Int64, timescale: Int64) {
        precondition(timescale > 0, "MediaTime timescale must be positive")
        self.value = value
        self.timescale = timescale
    }

    public static func zero(timescale: Int64) -> MediaTime { MediaTime(value: 0, timescale: timescale) }

    /// A duration given in seconds at a configuration or command-line edge, rounded to the
    /// nearest tick of `timescale`.
    public init(seconds: Double, timescale: Int64) {
        self.init(value: Int64((seconds * Double(timescale)).rounded()), timescale: timescale)
    }

    /// A time in a FFmpeg-style time base (`num/den` seconds per tick): `value × num/den` s,
    /// expressed exactly as `value × num` ticks of `den` ticks per second.
    public init(value: Int64, timeBase: Rational) {
        precondition(timeBase.numerator > 0 && timeBase.denominator > 0, "invalid time base \(timeBase)")
        if timeBase.numerator == 1 {
            self.init(value: value, timescale: timeBase.denominator)
        } else {
            self.init(value: value * timeBase.numerator, timescale: timeBase.denominator)
        }
    }

    /// This time as a count of ticks of an FFmpeg-style time base (`num/den` seconds per tick),
    /// rounded to the nearest tick: the inverse of `init(value:timeBase:)`.
    public func ticks(of timeBase: Rational) -> Int64 {
        precondition(timeBase.numerator > 0 && timeBase.denominator > 0, "invalid time base \(timeBase)")
        return MediaTime.scale(value, by: timeBase.denominator, dividedBy: timescale * timeBase.numerator, rounding: .nearest)
    }

    /// Seconds as a double, for display and reporting only; never for arithmetic.
    public var seconds: Double { Double(value) / Double(timescale) }

    /// This time expressed in another timescale.
    public func rescaled(to newTimescale: Int64, rounding: Rounding = .nearest) -> MediaTime {
        if newTimescale == timescale { return self }
        return MediaTime(value: MediaTime.scale(value, by: newTimescale, dividedBy: timescale, rounding: rounding),
                         timescale: newTimescale)
    }

    /// `value × multiplier / divisor` computed in 128 bits, rounded as asked.
    public static func scale(_ value: Int64, by multiplier: Int64, dividedBy divisor: Int64,
                             rounding: Rounding) -> Int64 {
        precondition(divisor > 0)
        let product = value.multipliedFullWidth(by: multiplier)
        let negative = product.high < 0
        // Work on the magnitude so rounding is symmetric and predictable.
        let magnitude: (high: UInt64, low: UInt64)
        if negative {
            let low = ~product.low &+ 1
            let high = ~UInt64(bitPattern: product.high) &+ (low == 0 ? 1 : 0)
            magnitude = (high, low)
        } else {
            magnitude = (UInt64(bitPattern: product.high), product.low)
        }
        let d = UInt64(divisor)
        precondition(magnitude.high < d, "MediaTime overflow scaling \(value) by \(multiplier)/\(divisor)")
        let (q, remainder) = d.dividingFullWidth((magnitude.high, magnitude.low))
        var quotient = q
        switch rounding {
        case .nearest:
            if remainder >= d - remainder { quotient += 1 }
        case .up:
            if remainder != 0 && !negative { quotient += 1 }
        case .down:
            if remainder != 0 && negative { quotient += 1 }
        }
        return negative ? -Int64(quotient) : Int64(quotient)
    }

    public static func < (lhs: MediaTime, rhs: MediaTime) -> Bool {
        if lhs.timescale == rhs.timescale { return lhs.value < rhs.value }
        let l = lhs.value.multipliedFullWidth(by: rhs.timescale)
        let r = rhs.value.multipliedFullWidth(by: lhs.timescale)
        return (l.high, l.low) < (r.high, r.low)
    }

    /// Equality is by the instant represented, so 1/2 s equals 2/4 s.
    public static func == (lhs: MediaTime, rhs: MediaTime) -> Bool {
        if lhs.timescale == rhs.timescale { return lhs.value == rhs.value }
        let l = lhs.value.multipliedFullWidth(by: rhs.timescale)
        let r = rhs.value.multipliedFullWidth(by: lhs.timescale)
        return l.high == r.high && l.low == r.low
    }

    public func hash(into hasher: inout Hasher) {
        let divisor = Rational.gcd(Swift.abs(value), timescale)
        hasher.combine(value / divisor)
        hasher.combine(timescale / divisor)
    }

    /// Sum in the finer of the two timescales when one divides the other, else in their product
    /// (rounded to nearest if that overflows a sensible range).
    public static func + (lhs: MediaTime, rhs: MediaTime) -> MediaTime {
        let scale = commonTimescale(lhs.timescale, rhs.timescale)
        return MediaTime(value: lhs.rescaled(to: scale).value + rhs.rescaled(to: scale).value, timescale: scale)
    }

    public static func - (lhs: MediaTime, rhs: MediaTime) -> MediaTime {
        let scale = commonTimescale(lhs.timescale, rhs.timescale)
        return MediaTime(value: lhs.rescaled(to: scale).value - rhs.rescaled(to: scale).value, timescale: scale)
    }

    public static func commonTimescale(_ a: Int64, _ b: Int64) -> Int64 {
        if a == b { return a }
        let lcm = a / Rational.gcd(a, b) * b
        return lcm <= 1 << 40 ? lcm : Swift.max(a, b)
    }

    public var description: String { "\(value)/\(timescale)s" }
}

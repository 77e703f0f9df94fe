/// An exact fraction, as FFmpeg's `AVRational`: time bases, frame rates, aspect ratios.
///
/// A zero denominator means "unknown" (FFmpeg's `0/0` or `0/1` convention is normalised to
/// `nil` at the adapter boundary, so values reaching Swift code are meaningful).
public struct Rational: Sendable, Hashable, Codable, CustomStringConvertible {
    public var numerator: Int64
    public var denominator: Int64

    public init(_ numerator: Int64, _ denominator: Int64) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The value as a floating-point number; `nan` for a zero denominator.
    public var doubleValue: Double {
        denominator == 0 ? .nan : Double(numerator) / Double(denominator)
    }

    /// The fraction in lowest terms with a positive denominator.
    public var reduced: Rational {
        guard denominator != 0 else { return self }
        let divisor = Rational.gcd(Swift.abs(numerator), Swift.abs(denominator))
        let sign: Int64 = denominator < 0 ? -1 : 1
        return Rational(sign * numerator / divisor, sign * denominator / divisor)
    }

    /// The reciprocal (`den/num`).
    public var inverted: Rational { Rational(denominator, numerator) }

    public var description: String { "\(numerator)/\(denominator)" }

    static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a == 0 ? 1 : a
    }
}

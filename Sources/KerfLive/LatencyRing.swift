/// The last 1024 latencies of something (seconds), for p50/p99 gauges.
package struct LatencyRing: Sendable {
    private var values: [Double] = []
    private var next = 0

    mutating func record(_ seconds: Double) {
        if values.count < 1024 { values.append(seconds) } else { values[next] = seconds }
        next = (next + 1) % 1024
    }

    /// The `fraction` quantile (0…1), nil before anything was recorded.
    package func quantile(_ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }
}

/// Durations counted in power-of-two buckets of microseconds (bucket k: under 2^k us), for percentiles of
/// many short waits without keeping each one: 41 counters whatever the count.
package struct DurationHistogram: Sendable {
    private var buckets = [Int](repeating: 0, count: 41)
    package private(set) var count = 0
    package private(set) var max: Duration = .zero

    package init() {}

    package mutating func add(_ duration: Duration) {
        let micros = Swift.max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        let bucket = micros == 0 ? 0 : Swift.min(buckets.count - 1, Int.bitWidth - micros.leadingZeroBitCount)
        buckets[bucket] += 1
        count += 1
        if duration > max { max = duration }
    }

    /// The upper bound of the bucket holding quantile `q` (0...1), in seconds: the quantile is below it and,
    /// unless it is the first bucket, at least half of it. Zero when empty.
    package func quantile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, Int((Double(count) * q).rounded(.up)))
        var seen = 0
        for (bucket, n) in buckets.enumerated() {
            seen += n
            if seen >= rank { return Double(1 << bucket) / 1e6 }
        }
        return Double(1 << (buckets.count - 1)) / 1e6
    }
}

/// The counters of a run as `--verbose` shows them after the summary line, and summed for `--counters`.
extension JobSummary {
    /// The script's `counter "NAME"` counts, summed over every job (map and reduce sides).
    public var userCounters: [String: Int64] {
        var total: [String: Int64] = [:]
        for report in jobs {
            for (name, value) in report.map.user { total[name, default: 0] += value }
            for (name, value) in report.reduce.user { total[name, default: 0] += value }
        }
        return total
    }

    /// `description`, and with `verbose` the built-in counters that line leaves out and the user counters:
    /// `... | 12 records out | spilled 0 B, fetched 1.2 KiB | counters: errors 12, words 230`.
    public func description(verbose: Bool) -> String {
        guard verbose else { return description }
        var spilled: Int64 = 0
        var fetched: Int64 = 0
        var written: Int64 = 0
        for report in jobs {
            spilled += report.map.spilledBytes + report.reduce.spilledBytes
            if report.reduceTasks > 0 {
                fetched += report.reduce.bytesIn
                written += report.reduce.bytesOut
            } else {
                written += report.map.bytesOut
            }
        }
        var text = description + " | spilled \(Self.formatBytes(spilled)), fetched \(Self.formatBytes(fetched))"
            + ", output \(Self.formatBytes(written))"
        let user = userCounters
        if !user.isEmpty {
            text += " | counters: " + user.keys.sorted().map { "\($0) \(Self.formatCount(user[$0] ?? 0))" }.joined(separator: ", ")
        }
        return text
    }
}

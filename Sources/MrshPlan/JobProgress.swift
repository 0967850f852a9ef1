
/// A progress report, sent whenever a task finishes.
public struct JobProgress: Codable, Sendable, Hashable {
    public enum Phase: String, Codable, Sendable, Hashable {
        case map
        case reduce
        case output
    }

    /// Index of the job in its plan, and the number of jobs.
    public var job: Int
    public var jobCount: Int
    public var phase: Phase
    public var mapsDone: Int
    public var mapsTotal: Int
    public var reducesDone: Int
    public var reducesTotal: Int
    /// Input bytes read by the finished map tasks of this job.
    public var bytesRead: Int64
    /// Seconds since the plan started.
    public var elapsed: Double

    public init(
        job: Int, jobCount: Int, phase: Phase, mapsDone: Int, mapsTotal: Int, reducesDone: Int, reducesTotal: Int,
        bytesRead: Int64, elapsed: Double
    ) {
        self.job = job
        self.jobCount = jobCount
        self.phase = phase
        self.mapsDone = mapsDone
        self.mapsTotal = mapsTotal
        self.reducesDone = reducesDone
        self.reducesTotal = reducesTotal
        self.bytesRead = bytesRead
        self.elapsed = elapsed
    }
}

/// What one job of a plan did.
public struct JobReport: Codable, Sendable, Hashable {
    public var job: Int
    public var mapTasks: Int
    public var reduceTasks: Int
    /// Failed attempts that were retried.
    public var retries: Int
    public var map: Counters
    public var reduce: Counters
    public var elapsed: Double
    /// How a join job ran and why (`Join.choice`'s reason, e.g. "broadcast (right side 1.2 MiB <= broadcast
    /// limit 64 MiB)"); nil for other jobs.
    public var join: String?
    /// Records each reduce task read, in partition order (the winning attempt's; empty for a map-only job).
    public var partitionRecords: [Int64] = []

    public init(
        job: Int, mapTasks: Int, reduceTasks: Int, retries: Int, map: Counters, reduce: Counters, elapsed: Double,
        join: String? = nil
    ) {
        self.join = join
        self.job = job
        self.mapTasks = mapTasks
        self.reduceTasks = reduceTasks
        self.retries = retries
        self.map = map
        self.reduce = reduce
        self.elapsed = elapsed
    }

    private enum CodingKeys: String, CodingKey {
        case job, mapTasks, reduceTasks, retries, map, reduce, elapsed, partitionRecords, join
    }

    /// A missing `partitionRecords` decodes as empty, a missing `join` as nil.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        job = try c.decode(Int.self, forKey: .job)
        mapTasks = try c.decode(Int.self, forKey: .mapTasks)
        reduceTasks = try c.decode(Int.self, forKey: .reduceTasks)
        retries = try c.decode(Int.self, forKey: .retries)
        map = try c.decode(Counters.self, forKey: .map)
        reduce = try c.decode(Counters.self, forKey: .reduce)
        elapsed = try c.decode(Double.self, forKey: .elapsed)
        partitionRecords = try c.decodeIfPresent([Int64].self, forKey: .partitionRecords) ?? []
        join = try c.decodeIfPresent(String.self, forKey: .join)
    }
}

/// What a whole plan did: per-job counters, time, parts written.
public struct JobSummary: Codable, Sendable, Hashable, CustomStringConvertible {
    public var jobs: [JobReport]
    public var elapsed: Double
    /// `part-NNNNN` files written to an output directory.
    public var partsWritten: Int
    /// Records delivered to the sink.
    public var recordsOutput: Int64

    public init(jobs: [JobReport], elapsed: Double, partsWritten: Int, recordsOutput: Int64) {
        self.jobs = jobs
        self.elapsed = elapsed
        self.partsWritten = partsWritten
        self.recordsOutput = recordsOutput
    }

    /// The one job summary of mrsh, printed after every job (and logged by a coordinator): time, tasks, and
    /// records and bytes in and out of the map and reduce side of every job, e.g.
    /// `1 job, 1+4 tasks, 0.11 s | map 22 records (1.3 KiB) -> 203 | reduce 203 -> 132 | 132 records out`
    /// (a join job adds `| broadcast join` or `| shuffle join`).
    public var description: String {
        let maps = jobs.reduce(0) { $0 + $1.mapTasks }
        let reduces = jobs.reduce(0) { $0 + $1.reduceTasks }
        var parts = ["\(jobs.count) job\(jobs.count == 1 ? "" : "s"), \(maps)+\(reduces) tasks, \(Self.formatSeconds(elapsed))"]
        for report in jobs {
            let prefix = jobs.count > 1 ? "job \(report.job): " : ""
            var text = prefix + "map \(Self.formatCount(report.map.recordsIn)) records (\(Self.formatBytes(report.map.bytesIn))) -> \(Self.formatCount(report.map.recordsOut))"
            if report.reduceTasks > 0 {
                text += " | reduce \(Self.formatCount(report.reduce.recordsIn)) -> \(Self.formatCount(report.reduce.recordsOut))"
            }
            // The strategy's first word ("broadcast join"); its reason is in the coordinator's log (--verbose).
            if let join = report.join, let strategy = join.split(separator: " ").first { text += " | \(strategy) join" }
            parts.append(text)
        }
        var tail: [String] = []
        if partsWritten > 0 {
            tail.append("\(partsWritten) part\(partsWritten == 1 ? "" : "s") written")
        } else {
            tail.append("\(Self.formatCount(recordsOutput)) records out")
        }
        let retries = jobs.reduce(0) { $0 + $1.retries }
        if retries > 0 { tail.append("\(retries) attempt\(retries == 1 ? "" : "s") retried") }
        let skipped = jobs.reduce(Int64(0)) { $0 + $1.map.skippedRecords + $1.reduce.skippedRecords }
        if skipped > 0 { tail.append("\(Self.formatCount(skipped)) bad record\(skipped == 1 ? "" : "s") skipped") }
        parts.append(tail.joined(separator: ", "))
        return parts.joined(separator: " | ")
    }

    /// `1,234,567`
    public static func formatCount(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `0.11 s` below ten seconds, `12.3 s` from there (rounded half away from zero, as `%.2f`/`%.1f`).
    public static func formatSeconds(_ value: Double) -> String {
        let decimals = value < 10 ? 2 : 1
        let scale = decimals == 2 ? 100.0 : 10.0
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        let fraction = String(scaled % Int64(scale))
        let padded = String(repeating: "0", count: decimals - fraction.count) + fraction
        return (value < 0 && scaled != 0 ? "-" : "") + "\(whole).\(padded) s"
    }

    /// "1.5 MiB": binary units, one decimal, halves rounded up ("123 B" below 1 KiB). Every byte count
    /// mrsh shows (summary and progress lines) goes through here.
    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}


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

    public init(job: Int, mapTasks: Int, reduceTasks: Int, retries: Int, map: Counters, reduce: Counters, elapsed: Double) {
        self.job = job
        self.mapTasks = mapTasks
        self.reduceTasks = reduceTasks
        self.retries = retries
        self.map = map
        self.reduce = reduce
        self.elapsed = elapsed
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

    /// One line for standard error.
    public var description: String {
        let tasks = jobs.reduce(0) { $0 + $1.mapTasks + $1.reduceTasks }
        let bytesIn = jobs.first?.map.bytesIn ?? 0
        let recordsIn = jobs.first?.map.recordsIn ?? 0
        var text = "\(jobs.count) job\(jobs.count == 1 ? "" : "s"), \(tasks) tasks, "
        text += "\(recordsIn) records (\(JobSummary.formatBytes(bytesIn))) in"
        if partsWritten > 0 {
            text += ", \(partsWritten) part\(partsWritten == 1 ? "" : "s") written"
        } else {
            text += ", \(recordsOutput) records out"
        }
        let retries = jobs.reduce(0) { $0 + $1.retries }
        if retries > 0 { text += ", \(retries) retried" }
        let skipped = jobs.reduce(Int64(0)) { $0 + $1.map.skippedRecords + $1.reduce.skippedRecords }
        if skipped > 0 { text += ", \(skipped) bad records skipped" }
        let tenths = Int((elapsed * 100).rounded())
        text += ", \(tenths / 100).\(tenths % 100 < 10 ? "0" : "")\(tenths % 100) s"
        return text
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

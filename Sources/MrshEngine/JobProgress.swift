import MrshPlan

/// A progress report, sent whenever a task finishes.
public struct JobProgress: Sendable, Equatable {
    public enum Phase: String, Sendable, Equatable {
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
}

/// What one job of a plan did.
public struct JobReport: Sendable, Equatable {
    public var job: Int
    public var mapTasks: Int
    public var reduceTasks: Int
    /// Failed attempts that were retried.
    public var retries: Int
    public var map: Counters
    public var reduce: Counters
    public var elapsed: Double
}

/// What a whole plan did: per-job counters, time, parts written.
public struct JobSummary: Sendable, Equatable, CustomStringConvertible {
    public var jobs: [JobReport]
    public var elapsed: Double
    /// `part-NNNNN` files written to an output directory.
    public var partsWritten: Int
    /// Records delivered to the sink.
    public var recordsOutput: Int64

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

    static func formatBytes(_ bytes: Int64) -> String {
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

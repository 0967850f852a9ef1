import MrshDataPath
import MrshControl
import MrshPlan

/// The one-line job summary printed after every job: time, tasks, and records and bytes in and out of the
/// map and reduce side of every job, e.g.
/// `1 job, 1+4 tasks, 0.11 s | map 22 records (1.3 KiB) -> 203 | reduce 203 -> 132 | 132 records out`.
public enum SummaryLine {
    public static func render(_ summary: JobSummary) -> String {
        let maps = summary.jobs.reduce(0) { $0 + $1.mapTasks }
        let reduces = summary.jobs.reduce(0) { $0 + $1.reduceTasks }
        var parts = ["\(summary.jobs.count) job\(summary.jobs.count == 1 ? "" : "s"), \(maps)+\(reduces) tasks, \(seconds(summary.elapsed))"]
        for report in summary.jobs {
            let prefix = summary.jobs.count > 1 ? "job \(report.job): " : ""
            var text = prefix + "map \(count(report.map.recordsIn)) records (\(JobSummary.formatBytes(report.map.bytesIn))) -> \(count(report.map.recordsOut))"
            if report.reduceTasks > 0 {
                text += " | reduce \(count(report.reduce.recordsIn)) -> \(count(report.reduce.recordsOut))"
            }
            parts.append(text)
        }
        var tail: [String] = []
        if summary.partsWritten > 0 {
            tail.append("\(summary.partsWritten) part\(summary.partsWritten == 1 ? "" : "s") written")
        } else {
            tail.append("\(count(summary.recordsOutput)) records out")
        }
        let retries = summary.jobs.reduce(0) { $0 + $1.retries }
        if retries > 0 { tail.append("\(retries) attempt\(retries == 1 ? "" : "s") retried") }
        let skipped = summary.jobs.reduce(Int64(0)) { $0 + $1.map.skippedRecords + $1.reduce.skippedRecords }
        if skipped > 0 { tail.append("\(count(skipped)) bad record\(skipped == 1 ? "" : "s") skipped") }
        parts.append(tail.joined(separator: ", "))
        return parts.joined(separator: " | ")
    }

    /// `1,234,567`
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func seconds(_ value: Double) -> String {
        value < 10 ? String(format: "%.2f s", value) : String(format: "%.1f s", value)
    }
}

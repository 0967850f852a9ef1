import MrshPlan

/// The one progress line of mrsh (the shell's and a script's on a terminal):
/// `job 1/2 · map 12/40 · reduce 0/4 · 12.3 MiB · 1.2 s`. The job index of `JobProgress` is 0-based.
enum ProgressLine {
    static func render(_ p: JobProgress) -> String {
        var parts: [String] = []
        if p.jobCount > 1 { parts.append("job \(p.job + 1)/\(p.jobCount)") }
        parts.append("map \(p.mapsDone)/\(p.mapsTotal)")
        if p.reducesTotal > 0 { parts.append("reduce \(p.reducesDone)/\(p.reducesTotal)") }
        if p.bytesRead > 0 { parts.append(JobSummary.formatBytes(p.bytesRead)) }
        parts.append(seconds(p.elapsed))
        return parts.joined(separator: " · ")
    }

    static func seconds(_ s: Double) -> String { s < 60 ? "\(oneDecimal(s)) s" : "\(Int(s) / 60) min \(Int(s) % 60) s" }

    static func oneDecimal(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

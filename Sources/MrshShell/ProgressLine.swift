import MrshPlan

/// The one-line progress of a running job: `job 1/2 · map 12/40 · reduce 0/4 · 12.3 MiB · 1.2 s`.
enum ProgressLine {
    static func render(_ p: ShellProgress) -> String {
        var parts: [String] = []
        if p.jobs > 1 { parts.append("job \(p.job)/\(p.jobs)") }
        parts.append("map \(p.mapsDone)/\(p.maps)")
        if p.reduces > 0 { parts.append("reduce \(p.reducesDone)/\(p.reduces)") }
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

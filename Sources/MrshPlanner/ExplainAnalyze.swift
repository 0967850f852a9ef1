import MrshPlan

/// `explain analyze PIPELINE`: the plan is run with probes between its record stages, then printed as
/// `explain` prints it, each job followed by what its stages did.
///
/// The probes (`RecordOp.probe`) exist only in the plan `instrument` returns: a plan run any other way has
/// none, so per-stage counting costs nothing outside `explain analyze`. A probe counts the records and bytes
/// (without the newline) passing its place; probe `m<side>.<k>` sits before map operator k of source
/// `side` (k = the operator count: after the last), `r.<k>` likewise before reduce operator k (`r.0`: the
/// records the shuffle's reduce produced). Their counts come back in `Counters.stages`, summed over the
/// winning attempts like every counter.
public enum ExplainAnalyze {
    /// The plan to run: `plan` with a probe before and after every record operator. Probes hide the block
    /// scans of a leading `grep` and of `map words | reduce count` (records go through the pipeline one by
    /// one): the counts are the same, the run a little slower.
    public static func instrument(_ plan: JobPlan) -> JobPlan {
        var instrumented = plan
        for index in instrumented.jobs.indices {
            var job = instrumented.jobs[index]
            for side in job.sources.indices {
                job.sources[side].mapOps = probed(job.sources[side].mapOps, prefix: "m\(side).")
            }
            if job.shuffle != nil { job.reduceOps = probed(job.reduceOps, prefix: "r.") }
            instrumented.jobs[index] = job
        }
        return instrumented
    }

    private static func probed(_ ops: [RecordOp], prefix: String) -> [RecordOp] {
        var out: [RecordOp] = [.probe(prefix + "0")]
        for (index, op) in ops.enumerated() {
            out.append(op)
            out.append(.probe(prefix + "\(index + 1)"))
        }
        return out
    }

    /// `explain`'s text for `plan` (as planned, not instrumented), each job followed by its analysis from
    /// `summary` (the run of `instrument(plan)`).
    public static func render(
        _ plan: JobPlan, summary: JobSummary, reducers: Int, broadcastLimit: Int64 = JobSettings.defaults.broadcastLimit,
        rightSideBytes: (JobSpec) -> Int64? = { _ in nil }
    ) -> String {
        var text = Explain.render(
            plan, reducers: reducers, broadcastLimit: broadcastLimit, rightSideBytes: rightSideBytes,
            annotate: { job in
                guard let report = summary.jobs.first(where: { $0.job == job.id }) else { return ["  analyze  (not run)"] }
                return analysis(job, report)
            })
        var tail = "ran in \(JobSummary.formatSeconds(summary.elapsed)), "
        tail += summary.partsWritten > 0
            ? "\(summary.partsWritten) part\(summary.partsWritten == 1 ? "" : "s") written"
            : "\(JobSummary.formatCount(summary.recordsOutput)) records out (not printed)"
        let retries = summary.jobs.reduce(0) { $0 + $1.retries }
        if retries > 0 { tail += ", \(retries) attempt\(retries == 1 ? "" : "s") retried" }
        text += tail + "\n"
        return text
    }

    /// The lines after one job's block.
    static func analysis(_ job: JobSpec, _ report: JobReport) -> [String] {
        var lines: [String] = []
        // A join the coordinator ran as a broadcast join had no shuffle and no reduce tasks.
        let broadcast = job.join != nil && report.join?.hasPrefix("broadcast") == true
        var header = "  analyze  \(JobSummary.formatSeconds(report.elapsed)); map \(report.mapTasks) task\(report.mapTasks == 1 ? "" : "s"), "
            + "\(seconds(report.map.taskNanoseconds)) of task time"
        if job.shuffle != nil && !broadcast {
            header += "; reduce \(report.reduceTasks) task\(report.reduceTasks == 1 ? "" : "s"), \(seconds(report.reduce.taskNanoseconds)) of task time"
        }
        lines.append(header)
        if let join = report.join { lines.append("  ran as   \(join)") }
        var rows: [(String, String)] = []
        if broadcast, let form = job.broadcastJoinForm() {
            rows = broadcastRows(job, form, report)
        } else {
            rows = plannedRows(job, report)
        }
        let skipped = report.map.skippedRecords + report.reduce.skippedRecords
        if skipped > 0 { rows.append(("skipped", records(skipped, word: "bad records"))) }
        var user = report.map.user
        for (name, value) in report.reduce.user { user[name, default: 0] += value }
        for name in user.keys.sorted() { rows.append(("counter " + Explain.quoted(name), JobSummary.formatCount(user[name] ?? 0))) }
        let width = min(40, rows.map(\.0.count).max() ?? 0)
        for (label, value) in rows {
            let padded = label.count < width ? label + String(repeating: " ", count: width - label.count) : label
            lines.append("    " + padded + "  " + value)
        }
        if job.shuffle != nil && !broadcast && !report.partitionRecords.isEmpty {
            lines += histogram(report.partitionRecords)
        }
        return lines
    }

    /// The rows of a job that ran as planned: each source's read and map operators (probes `m<side>.<k>`),
    /// then the shuffle, the reduce operators (`r.<k>`) and the output.
    private static func plannedRows(_ job: JobSpec, _ report: JobReport) -> [(String, String)] {
        var rows: [(String, String)] = []
        for (side, source) in job.sources.enumerated() {
            let label = job.sources.count == 1 ? "" : " \(side)"
            let read = report.map.stages["m\(side).0"] ?? StageCount()
            rows.append(("read\(label)", "\(records(read.records)), \(JobSummary.formatBytes(read.bytes))"))
            for (index, op) in source.mapOps.enumerated() {
                let input = report.map.stages["m\(side).\(index)"] ?? StageCount()
                let output = report.map.stages["m\(side).\(index + 1)"] ?? StageCount()
                rows.append((Explain.describe(op), flow(input, output)))
            }
        }
        if job.shuffle != nil {
            var mapOut = "\(records(report.map.recordsOut, word: "entries")), \(JobSummary.formatBytes(report.map.bytesOut))"
            if report.map.spilledBytes > 0 { mapOut += ", \(JobSummary.formatBytes(report.map.spilledBytes)) spilled" }
            rows.append(("map output", mapOut))
            let reduced = report.reduce.stages["r.0"] ?? StageCount()
            let fetched = "\(records(report.reduce.recordsIn, word: "entries")) (\(JobSummary.formatBytes(report.reduce.bytesIn)) fetched)"
            rows.append(("reduce", "\(fetched) -> \(records(reduced.records)), \(JobSummary.formatBytes(reduced.bytes))"))
            for (index, op) in job.reduceOps.enumerated() {
                let input = report.reduce.stages["r.\(index)"] ?? StageCount()
                let output = report.reduce.stages["r.\(index + 1)"] ?? StageCount()
                rows.append((Explain.describe(op), flow(input, output)))
            }
            rows.append(("output", "\(records(report.reduce.recordsOut)), \(JobSummary.formatBytes(report.reduce.bytesOut))"))
        } else {
            rows.append(("output", "\(records(report.map.recordsOut)), \(JobSummary.formatBytes(report.map.bytesOut))"))
        }
        return rows
    }

    /// The rows of a join job that ran in its broadcast form (`JobSpec.broadcastJoinForm`): the right side
    /// loaded whole by every map task, then each left source's read and operators, the lookup in place of
    /// its key operator, the job's reduce operators on the map side, and the output. The probes keep their
    /// planned names (`m<planned side>.<k>`, `r.<k>`), all counted by map tasks.
    private static func broadcastRows(_ job: JobSpec, _ form: JobSpec, _ report: JobReport) -> [(String, String)] {
        guard let join = job.join else { return [] }
        var rows: [(String, String)] = []
        rows.append(("side", "right side read whole by each of the \(report.mapTasks) map task\(report.mapTasks == 1 ? "" : "s")"))
        let leftOps = job.reduceOps.count
        for (index, source) in form.sources.enumerated() {
            let side = join.rightSources + index
            let label = form.sources.count == 1 ? "" : " \(index)"
            let read = report.map.stages["m\(side).0"] ?? StageCount()
            rows.append(("read\(label)", "\(records(read.records)), \(JobSummary.formatBytes(read.bytes))"))
            for (k, op) in source.mapOps.dropLast(leftOps).enumerated() {
                let input = report.map.stages["m\(side).\(k)"] ?? StageCount()
                let output = report.map.stages["m\(side).\(k + 1)"] ?? StageCount()
                rows.append((Explain.describe(op), flow(input, output)))
            }
        }
        for (index, op) in job.reduceOps.enumerated() {
            let input = report.map.stages["r.\(index)"] ?? StageCount()
            let output = report.map.stages["r.\(index + 1)"] ?? StageCount()
            rows.append((Explain.describe(op), flow(input, output)))
        }
        rows.append(("output", "\(records(report.map.recordsOut)), \(JobSummary.formatBytes(report.map.bytesOut))"))
        return rows
    }

    /// `100 -> 40 records, 1.2 KiB -> 500 B`
    static func flow(_ input: StageCount, _ output: StageCount) -> String {
        "\(JobSummary.formatCount(input.records)) -> \(records(output.records)), "
            + "\(JobSummary.formatBytes(input.bytes)) -> \(JobSummary.formatBytes(output.bytes))"
    }

    static func records(_ count: Int64, word: String = "records") -> String {
        let singular = word == "entries" ? "entry" : word == "bad records" ? "bad record" : "record"
        return "\(JobSummary.formatCount(count)) \(count == 1 ? singular : word)"
    }

    static func seconds(_ nanoseconds: Int64) -> String {
        JobSummary.formatSeconds(Double(nanoseconds) / 1e9)
    }

    /// The width of the longest bar.
    static let barWidth = 40

    /// `reducers  records per partition: min 10, median 12, max 40` and a bar per partition (up to 16 of
    /// them), or per range of counts (more partitions: up to 8 equal ranges from min to max, with how many
    /// partitions fall in each). The median of an even count is the lower middle value.
    public static func histogram(_ counts: [Int64]) -> [String] {
        guard !counts.isEmpty else { return [] }
        let sorted = counts.sorted()
        let low = sorted[0]
        let high = sorted[sorted.count - 1]
        let median = sorted[(sorted.count - 1) / 2]
        var lines = [
            "  reducers records per partition: min \(JobSummary.formatCount(low)), median \(JobSummary.formatCount(median)), "
                + "max \(JobSummary.formatCount(high))"
        ]
        func bar(_ value: Int64, of top: Int64) -> String {
            guard top > 0 else { return "" }
            let length = Int((Double(value) / Double(top) * Double(barWidth)).rounded(.up))
            return String(repeating: "#", count: length)
        }
        if counts.count <= 16 {
            let labelWidth = String(counts.count - 1).count
            for (partition, count) in counts.enumerated() {
                let label = String(partition)
                let padded = String(repeating: " ", count: labelWidth - label.count) + label
                let drawn = bar(count, of: high)
                lines.append("    \(padded) |" + drawn + String(repeating: " ", count: barWidth - drawn.count) + " \(JobSummary.formatCount(count))")
            }
            return lines
        }
        // At most 8 ranges of `span` counts each, the last ending at `high`.
        let values = high - low + 1
        let span = (values + 7) / 8
        let buckets = Int((values + span - 1) / span)
        var inBucket = [Int64](repeating: 0, count: buckets)
        for count in counts { inBucket[min(buckets - 1, Int((count - low) / span))] += 1 }
        let largest = inBucket.max() ?? 0
        let labels = (0..<buckets).map { bucket -> String in
            let from = low + Int64(bucket) * span
            let to = bucket == buckets - 1 ? high : from + span - 1
            return "\(JobSummary.formatCount(from))-\(JobSummary.formatCount(to))"
        }
        let labelWidth = labels.map(\.count).max() ?? 0
        for bucket in 0..<buckets {
            let label = labels[bucket]
            let padded = String(repeating: " ", count: labelWidth - label.count) + label
            let drawn = bar(inBucket[bucket], of: largest)
            let partitions = inBucket[bucket] == 1 ? "partition" : "partitions"
            lines.append("    \(padded) |" + drawn + String(repeating: " ", count: barWidth - drawn.count) + " \(inBucket[bucket]) \(partitions)")
        }
        return lines
    }
}

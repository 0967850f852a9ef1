import MrshDataPath
import MrshPlan

/// Renders a task graph for `explain`: one block per job, naming its inputs (a job of several sources lists
/// each with its own map-side operators, by side), the operators fused into its map and reduce tasks, how its
/// shuffle partitions, orders and combines records (as the shuffle's kind describes itself), and where its
/// output goes. Jobs reading earlier jobs name them, so the blocks draw the plan's dataflow graph.
public enum Explain {
    /// - Parameters:
    ///   - reducers: the reducer count used where a job leaves the choice to the engine.
    ///   - broadcastLimit: `--broadcast-limit`, for the line that says how a join runs.
    ///   - rightSideBytes: the size of a join job's right side where it can be known before anything runs
    ///     (files), nil otherwise.
    ///   - annotate: lines added after each job's block (`explain analyze`'s, see `ExplainAnalyze`).
    public static func render(
        _ plan: JobPlan, reducers: Int, broadcastLimit: Int64 = JobSettings.defaults.broadcastLimit,
        rightSideBytes: (JobSpec) -> Int64? = { _ in nil }, annotate: (JobSpec) -> [String] = { _ in [] }
    ) -> String {
        var lines: [String] = []
        let jobWord = plan.jobs.count == 1 ? "job" : "jobs"
        lines.append("plan: \(plan.jobs.count) \(jobWord)")
        for planned in plan.jobs {
            var job = planned
            // A join runs as the coordinator will run it: broadcast where the choice is already known.
            var strategy: String?
            if let join = job.join {
                let choice = join.choice(rightBytes: rightSideBytes(job), limit: broadcastLimit)
                strategy = choice.reason
                if choice.broadcast == true, let form = job.broadcastJoinForm() { job = form }
            }
            lines.append("job \(job.id)")
            for (side, source) in job.sideInputs.enumerated() {
                lines.append("  side \(side)   \(describe(source.input))" + describe(source.format) + ", read whole by every map task")
                lines.append("  side map \(describeMap(source))")
            }
            if job.sources.count == 1 {
                lines.append("  input    \(describe(job.input))" + describe(job.sources[0].format))
                lines.append("  map      \(describeMap(job.sources[0]))")
                if let names = job.sources[0].fieldNames { lines.append("  fields   \(names.joined(separator: ", "))") }
            } else {
                for (side, source) in job.sources.enumerated() {
                    lines.append("  input \(side)  \(describe(source.input))" + describe(source.format))
                    lines.append("  map \(side)    \(describeMap(source))")
                    if let names = source.fieldNames { lines.append("  fields \(side) \(names.joined(separator: ", "))") }
                }
            }
            if let shuffle = job.shuffle {
                let kind = shuffle.kind
                let r = kind.partitioning == .single ? 1 : job.reducers ?? reducers
                if let combiner = kind.combinerDescription { lines.append("  combine  \(combiner)") }
                var described = kind.shuffleDescription(partitions: "\(r) \(r == 1 ? "partition" : "partitions")")
                if job.sources.count > 1 { described += ", sides in input order" }
                lines.append("  shuffle  \(described)")
                if let strategy { lines.append("  strategy \(strategy)") }
                var reduce = kind.reduceDescription
                if !job.reduceOps.isEmpty { reduce += " | " + job.reduceOps.map(describe).joined(separator: " | ") }
                lines.append("  reduce   \(reduce) (\(r) \(r == 1 ? "task" : "tasks"))")
                if let names = job.reduceFieldNames { lines.append("  fields   \(names.joined(separator: ", "))") }
            } else {
                lines.append("  shuffle  none (map-only: output in input order)")
                if let strategy { lines.append("  strategy \(strategy)") }
            }
            lines.append("  output   \(describe(job.output))")
            lines += annotate(planned)
        }
        if let limit = plan.finalLimit { lines.append("then keep the first \(limit) records") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describeMap(_ source: JobSource) -> String {
        var map = source.mapOps.isEmpty ? "identity" : source.mapOps.map(describe).joined(separator: " | ")
        if let limit = source.mapLimit { map += ", first \(limit) per task" }
        return map
    }

    /// How the source's bytes become records, when not one per line.
    static func describe(_ format: RecordFormat) -> String {
        switch format {
        case .lines: return ""
        case .csv(let skipHeader): return ", as CSV records (a quoted line break does not end one)" + (skipHeader ? ", each file's header skipped" : "")
        }
    }

    static func describe(_ input: JobInput) -> String {
        switch input {
        case .files(let patterns): return "files " + patterns.map(quoted).joined(separator: " ")
        case .standardInput: return "standard input"
        case .job(let index): return "parts of job \(index)"
        }
    }

    static func describe(_ output: JobOutput) -> String {
        switch output {
        case .intermediate: return "intermediate (removed when the plan ends)"
        case .standardOutput: return "standard output"
        case .directory(let path, let overwrite):
            return "directory \(quoted(path)) (part-NNNNN + _SUCCESS, atomic commit\(overwrite ? ", replaces it" : ""))"
        }
    }

    static func describe(_ op: RecordOp) -> String {
        switch op {
        case .grep(let pattern, let negated): return "grep " + (negated ? "not " : "") + describe(pattern)
        case .words: return "map words"
        case .lower: return "map lower"
        case .upper: return "map upper"
        case .trim: return "map trim"
        case .split(.whitespace): return "split"
        case .split(.literal(let text)): return "split " + quoted(text)
        case .split(.regex(let source, let caseInsensitive)): return "split /\(regexBody(source))/" + (caseInsensitive ? "i" : "")
        case .pick(let fields): return "pick " + fields.map(String.init).joined(separator: ",")
        case .extract(let pattern): return "extract " + describe(pattern)
        case .tagFile: return "tag file"
        case .filter(let condition): return "where " + ExpressionText.render(condition)
        case .project(let expressions): return "select " + expressions.map(ExpressionText.render).joined(separator: ", ")
        case .prependGroupAndSortKey(let group, let rank):
            return "group key " + group.map { ExpressionText.render($0.expression) }.joined(separator: ", ")
                + ", sort key " + rank.map { ExpressionText.render($0.expression) + ($0.descending ? " desc" : " asc") }
                .joined(separator: ", ")
        case .prependSortKey(let keys):
            return "sort key " + keys.map { ExpressionText.render($0.expression) + ($0.descending ? " desc" : " asc") }
                .joined(separator: ", ")
        case .parseCSV: return "parse csv"
        case .parseJSON(let paths): return "parse json " + paths.map { quoted($0.joined(separator: ".")) }.joined(separator: ", ")
        case .prependJoinKey(let key, let side, _):
            switch side {
            case .left: return "join key " + ExpressionText.render(key)
            case .right(let removing?): return "join key " + ExpressionText.render(key) + " (field \(removing) moved to the key)"
            case .right(nil): return "join key " + ExpressionText.render(key)
            }
        case .joinLookup(let lookup):
            return (lookup.kind == .left ? "left join" : "join") + " with side input \(lookup.side) on " + ExpressionText.render(lookup.key)
        case .stream(let command): return "stream " + quoted(command)
        case .counter(let name, let condition):
            return "counter " + quoted(name) + (condition.map { " where " + ExpressionText.render($0) } ?? "")
        case .probe(let name): return "probe " + quoted(name)
        }
    }

    static func describe(_ pattern: TextPattern) -> String {
        switch pattern {
        case .literal(let text): return quoted(text)
        case .regex(let source, let caseInsensitive): return "/\(regexBody(source))/" + (caseInsensitive ? "i" : "")
        }
    }

    /// A regex's text as the language writes it between slashes (`/` as `\/`).
    static func regexBody(_ source: String) -> String {
        var out = ""
        for scalar in source.unicodeScalars {
            if scalar == "/" { out += "\\/" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// A string literal as the language writes it.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

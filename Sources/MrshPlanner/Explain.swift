import MrshPlan

/// Renders a task graph for `explain`: one block per job, naming its input, the operators fused into its
/// map and reduce tasks, how its shuffle partitions and orders records, and where its output goes.
public enum Explain {
    /// - Parameter reducers: the reducer count used where a job leaves the choice to the engine.
    public static func render(_ plan: JobPlan, reducers: Int) -> String {
        var lines: [String] = []
        let jobWord = plan.jobs.count == 1 ? "job" : "jobs"
        lines.append("plan: \(plan.jobs.count) \(jobWord)")
        for job in plan.jobs {
            lines.append("job \(job.id)")
            lines.append("  input    \(describe(job.input))")
            var map = job.mapOps.isEmpty ? "identity" : job.mapOps.map(describe).joined(separator: " | ")
            if let limit = job.mapLimit { map += ", first \(limit) per task" }
            lines.append("  map      \(map)")
            if let shuffle = job.shuffle {
                let r = job.reducers ?? reducers
                if let combiner = combiner(shuffle) { lines.append("  combine  \(combiner)") }
                lines.append("  shuffle  \(describe(shuffle, reducers: r))")
                var reduce = describeReduce(shuffle)
                if !job.reduceOps.isEmpty { reduce += " | " + job.reduceOps.map(describe).joined(separator: " | ") }
                lines.append("  reduce   \(reduce) (\(r) \(r == 1 ? "task" : "tasks"))")
            } else {
                lines.append("  shuffle  none (map-only: output in input order)")
            }
            lines.append("  output   \(describe(job.output))")
        }
        if let limit = plan.finalLimit { lines.append("then keep the first \(limit) records") }
        return lines.joined(separator: "\n") + "\n"
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
        case .split(.regex(let source)): return "split /\(source)/"
        case .pick(let fields): return "pick " + fields.map(String.init).joined(separator: ",")
        case .extract(let pattern): return "extract " + describe(pattern)
        case .tagFile: return "tag file"
        }
    }

    static func describe(_ pattern: TextPattern) -> String {
        switch pattern {
        case .literal(let text): return quoted(text)
        case .regex(let source, let caseInsensitive): return "/\(source)/" + (caseInsensitive ? "i" : "")
        }
    }

    static func describe(_ order: SortOrder) -> String {
        "by \(order.field.rawValue) \(order.descending ? "desc" : "asc")"
    }

    static func combiner(_ shuffle: Shuffle) -> String? {
        switch shuffle {
        case .aggregate(let aggregate): return aggregate.hasCombiner ? "\(aggregate.rawValue) (partial, in map tasks)" : nil
        case .distinct: return "distinct (in map tasks)"
        case .count: return "count (in map tasks)"
        case .sort, .gather: return nil
        }
    }

    static func describe(_ shuffle: Shuffle, reducers: Int) -> String {
        let parts = "\(reducers) \(reducers == 1 ? "partition" : "partitions")"
        switch shuffle {
        case .aggregate: return "hash of key into \(parts), sorted by key"
        case .distinct: return "hash of record into \(parts), sorted by record"
        case .count: return "into 1 partition"
        case .sort(let order, let limit):
            var text = "range of \(order.field.rawValue) (sampled) into \(parts), sorted \(describe(order))"
            if let limit { text += ", first \(limit) per task" }
            return text
        case .gather(let limit):
            return "in input order into 1 partition" + (limit.map { ", first \($0)" } ?? "")
        }
    }

    static func describeReduce(_ shuffle: Shuffle) -> String {
        switch shuffle {
        case .aggregate(let aggregate): return "reduce \(aggregate.rawValue)"
        case .distinct: return "distinct"
        case .count: return "count"
        case .sort(_, let limit): return "merge" + (limit.map { ", first \($0)" } ?? "")
        case .gather(let limit): return "concatenate" + (limit.map { ", first \($0)" } ?? "")
        }
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

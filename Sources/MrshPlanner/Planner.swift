import MrshDataPath
import MrshLanguage
import MrshPlan

/// A mistake in a pipeline that the parser cannot see (for example `tag file` after a reduce).
public struct PlanError: Error, Sendable, Hashable {
    public var message: String
    public var range: SourceRange
    public var help: String?
    public init(message: String, range: SourceRange, help: String? = nil) {
        self.message = message
        self.range = range
        self.help = help
    }
}

/// Compiles pipelines into job chains.
///
/// Record-wise stages are fused into the map side of a job until the first shuffling stage (`reduce`, `sort`,
/// `distinct`, `count`); stages after a shuffle run on the reduce side, and the next shuffle starts a new job
/// that reads the previous job's parts. `take` is pushed into the tasks where it is safe (every map and
/// reduce task keeps at most N) and applied exactly once where the output is gathered.
public struct Planner: Sendable {
    /// Pipelines bound with `let`, already resolved to their stages.
    public private(set) var bindings: [String: [Stage]] = [:]

    public init() {}

    /// Records a `let` binding. The pipeline may itself start with an earlier binding.
    public mutating func bind(_ name: String, to pipeline: Pipeline) throws(PlanError) {
        bindings[name] = try resolve(pipeline)
    }

    /// The names bound so far, sorted (for completion and `:describe`).
    public var bindingNames: [String] { bindings.keys.sorted() }

    /// Replaces a leading binding reference by the stages it stands for.
    public func resolve(_ pipeline: Pipeline) throws(PlanError) -> [Stage] {
        guard let first = pipeline.stages.first else { return [] }
        if case .binding(let name) = first.op {
            guard let bound = bindings[name] else {
                throw PlanError(message: "unknown name '\(name)'", range: first.range,
                                help: "bind it first with: let \(name) = read \"...\" | ...")
            }
            return bound + pipeline.stages.dropFirst()
        }
        return pipeline.stages
    }

    /// The task graph of one pipeline.
    public func plan(_ pipeline: Pipeline) throws(PlanError) -> JobPlan {
        try compile(resolve(pipeline))
    }

    /// Compiles resolved stages (no binding references left) into a job chain.
    public func compile(_ stages: [Stage]) throws(PlanError) -> JobPlan {
        var builder = ChainBuilder()
        for (index, stage) in stages.enumerated() {
            try builder.add(stage, isLast: index == stages.count - 1)
        }
        return builder.finish()
    }
}

/// Accumulates jobs while walking a pipeline's stages.
private struct ChainBuilder {
    private var jobs: [JobSpec] = []
    private var current = JobSpec(id: 0, input: .standardInput, output: .standardOutput)
    /// Whether `current` already has its shuffle, so record stages go to its reduce side.
    private var shuffled: Bool { current.shuffle != nil }
    /// The order in which `current`'s output is sorted, if any (drives how a later `take` is gathered).
    private var outputOrder: SortOrder? = nil
    private var finalLimit: Int? = nil
    /// Set by a `take` that must be applied before later record stages run.
    private var pendingTake: Int? = nil

    mutating func add(_ stage: Stage, isLast: Bool) throws(PlanError) {
        if let limit = pendingTake {
            // A `take` that is followed by more stages: gather its records in order first.
            pendingTake = nil
            gather(limit: limit)
        }
        switch stage.op {
        case .read(let paths):
            current.input = .files(paths)
        case .binding(let name):
            throw PlanError(message: "'\(name)' can only start a pipeline", range: stage.range)
        case .grep(let pattern, let negated):
            addRecordOp(.grep(textPattern(pattern), negated: negated))
        case .map(let function):
            switch function {
            case .words: addRecordOp(.words)
            case .lower: addRecordOp(.lower)
            case .upper: addRecordOp(.upper)
            case .trim: addRecordOp(.trim)
            }
        case .split(let separator):
            switch separator {
            case nil: addRecordOp(.split(.whitespace))
            case .literal(let text)?: addRecordOp(.split(.literal(text)))
            case .regex(let source, let caseInsensitive)?: addRecordOp(.split(.regex(source, caseInsensitive: caseInsensitive)))
            }
        case .pick(let fields):
            addRecordOp(.pick(fields))
        case .extract(let pattern):
            addRecordOp(.extract(textPattern(pattern)))
        case .tagFile:
            if shuffled || current.input.isJobOutput {
                throw PlanError(
                    message: "'tag file' must come before the first reduce, sort, distinct or count",
                    range: stage.range,
                    help: "after a shuffle, records no longer belong to one input file")
            }
            addRecordOp(.tagFile)
        case .reduce(let function):
            startShuffle(shuffle(function))
        case .sort(let key, let descending):
            startShuffle(.sort(SortOrder(field: sortField(key), descending: descending), limit: nil))
        case .distinct:
            startShuffle(.distinct)
        case .count:
            startShuffle(.count)
        case .take(let limit):
            take(limit, isLast: isLast)
        case .write(let path, let overwrite):
            // A map-only pipeline writes one part per map task, in input order (as `grep` prints its
            // lines); after a shuffle the parts are the reduce tasks' outputs.
            current.output = .directory(path: path, overwrite: overwrite)
        }
    }

    /// Applies `take N`: pushed into the tasks, gathered where the output is collected.
    private mutating func take(_ limit: Int, isLast: Bool) {
        if isLast {
            // The last stage: every task may stop early; the client keeps exactly N.
            if !shuffled {
                current.mapLimit = min(current.mapLimit ?? limit, limit)
            } else if case .sort(let order, _) = current.shuffle, current.reduceOps.isEmpty {
                current.shuffle = .sort(order, limit: limit)
            }
            finalLimit = min(finalLimit ?? limit, limit)
        } else {
            pendingTake = limit
        }
    }

    /// Ends `current` and starts a job that keeps the first `limit` records of its output in order.
    private mutating func gather(limit: Int) {
        if !shuffled {
            current.mapLimit = min(current.mapLimit ?? limit, limit)
            current.shuffle = .gather(limit: limit)
            current.reducers = 1
            outputOrder = nil
            return
        }
        let order = outputOrder
        endJob()
        if let order {
            current.shuffle = .sort(order, limit: limit)
        } else {
            current.mapLimit = limit
            current.shuffle = .gather(limit: limit)
        }
        current.reducers = 1
    }

    /// Starts `shuffle` (ending the current job first if it has one); what follows is in its kind's order.
    private mutating func startShuffle(_ shuffle: Shuffle) {
        if shuffled { endJob() }
        current.shuffle = shuffle
        let kind = shuffle.kind
        if kind.partitioning == .single { current.reducers = 1 }
        outputOrder = kind.outputOrder
    }

    private mutating func addRecordOp(_ op: RecordOp) {
        if shuffled {
            current.reduceOps.append(op)
            // Record stages after a shuffle may change keys: a later `take` keeps the first records in
            // part order (still the total order after a `sort`, whose parts are ranges).
            outputOrder = nil
        } else {
            current.mapOps.append(op)
        }
    }

    /// Closes `current` as an intermediate job and starts the next one reading its parts.
    private mutating func endJob() {
        current.output = .intermediate
        jobs.append(current)
        current = JobSpec(id: jobs.count, input: .job(jobs.count - 1), output: .standardOutput)
    }

    mutating func finish() -> JobPlan {
        if let limit = pendingTake {
            pendingTake = nil
            take(limit, isLast: true)
        }
        jobs.append(current)
        return JobPlan(jobs: jobs, finalLimit: finalLimit)
    }

    private func textPattern(_ pattern: PatternArgument) -> TextPattern {
        switch pattern {
        case .literal(let text): return .literal(text)
        case .regex(let source, let caseInsensitive): return .regex(source, caseInsensitive: caseInsensitive)
        }
    }

    private func shuffle(_ function: ReduceFunction) -> Shuffle {
        switch function {
        case .count: return .aggregate(.count)
        case .sum: return .aggregate(.sum)
        case .min: return .aggregate(.min)
        case .max: return .aggregate(.max)
        case .avg: return .aggregate(.avg)
        case .collect: return .aggregate(.collect)
        case .distinct: return .aggregate(.distinct)
        case .ndistinct: return .ndistinct
        }
    }

    private func sortField(_ key: SortKey) -> SortField {
        switch key {
        case .key: return .key
        case .value: return .value
        case .record: return .record
        }
    }
}

extension JobInput {
    fileprivate var isJobOutput: Bool {
        if case .job = self { return true }
        return false
    }
}

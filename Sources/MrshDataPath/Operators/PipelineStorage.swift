import MrshPlan

/// The compiled stages behind a `RecordPipeline`.
final class PipelineStorage {
    let ops: [RecordOp]
    /// Owns the stage objects.
    private let owners: [any RecordStage]
    /// The same stages, unretained and with their concrete types: `owners` keeps them alive as long as
    /// `self` lives. Dispatching through this enum is static (the stage code can be inlined) and saves
    /// an atomic retain and release per stage call, which matters on the per-word hot path.
    private let stages: [StageRef]
    /// Where the expression stages report bad records.
    let badRecords: BadRecordLog
    /// The counts of the `counter` and probe stages.
    let counts = CounterTable()
    /// What `stream` stages may do (nil: they fail when a record reaches them).
    let streamContext: StreamContext?
    /// The `stream` stages, with their index, in pipeline order (empty for most pipelines).
    let streams: [(index: Int, stage: StreamStage)]
    /// The tables of the task's side inputs (a broadcast join's right side), for `.joinLookup`.
    let sideTables: [JoinTable]

    init(
        _ ops: [RecordOp], badRecords policy: BadRecordPolicy = .fail, stream: StreamContext? = nil,
        sideTables: [JoinTable] = []
    ) throws {
        self.ops = ops
        self.sideTables = sideTables
        let log = BadRecordLog(policy)
        badRecords = log
        streamContext = stream
        var owners: [any RecordStage] = []
        var stages: [StageRef] = []
        let counts = self.counts
        var streams: [(index: Int, stage: StreamStage)] = []
        for (index, op) in ops.enumerated() {
            let next = index + 1 < ops.count ? ops[index + 1] : nil
            if case .stream(let command) = op {
                let stage = StreamStage(command, context: stream)
                owners.append(stage)
                stages.append(.stream(.passUnretained(stage)))
                streams.append((index, stage))
                continue
            }
            let (owner, ref) = try Self.compile(op, next: next, log: log, sideTables: sideTables, counts: counts)
            owners.append(owner)
            stages.append(ref)
        }
        self.owners = owners
        self.stages = stages
        self.streams = streams
    }

    /// The first failure of a `stream` stage (see `StreamStage.failure`).
    var streamFailure: (any Error)? {
        for entry in streams {
            if let failure = entry.stage.failure { return failure }
        }
        return nil
    }

    /// Ends every `stream` stage in pipeline order: each one's remaining output runs through the stages
    /// after it (and ends in `emit`) before the next one ends.
    func finishStreams(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        for (index, stage) in streams {
            if index == stages.count - 1 {
                try stage.finish(emit)
            } else {
                try stage.finish { output in try runRest(index + 1, output, Bytes.empty, emit) }
            }
        }
    }

    var isEmpty: Bool { stages.isEmpty }

    /// A fresh copy with its own scratch buffers (for a copied `RecordPipeline`).
    func recompiled() -> PipelineStorage {
        do {
            return try PipelineStorage(ops, badRecords: badRecords.policy, stream: streamContext, sideTables: sideTables)
        } catch {
            // These very ops compiled before and compiling is deterministic, so this cannot happen.
            preconditionFailure("recompiling record operators failed: \(error)")
        }
    }

    /// `next`: the op after `op`, if any (`parse csv` followed by a `select` of plain fields parses only
    /// the fields it reads).
    private static func compile(
        _ op: RecordOp, next: RecordOp?, log: BadRecordLog, sideTables: [JoinTable], counts: CounterTable
    ) throws -> (any RecordStage, StageRef) {
        switch op {
        case .grep(let pattern, let negated):
            let stage = try GrepStage(pattern, negated: negated)
            return (stage, .grep(.passUnretained(stage)))
        case .words:
            let stage = WordsStage()
            return (stage, .words(.passUnretained(stage)))
        case .lower, .upper:
            let stage = CaseStage(upper: op == .upper)
            return (stage, .changeCase(.passUnretained(stage)))
        case .trim:
            let stage = TrimStage()
            return (stage, .trim(.passUnretained(stage)))
        case .split(let separator):
            let stage = try SplitStage(separator)
            return (stage, .split(.passUnretained(stage)))
        case .pick(let fields):
            let stage = try PickStage(fields)
            return (stage, .pick(.passUnretained(stage)))
        case .extract(let pattern):
            let stage = try ExtractStage(pattern)
            return (stage, .extract(.passUnretained(stage)))
        case .tagFile:
            let stage = TagFileStage()
            return (stage, .tagFile(.passUnretained(stage)))
        case .filter(let expression):
            let stage = try FilterStage(expression, log: log)
            return (stage, .filter(.passUnretained(stage)))
        case .project(let expressions):
            let stage = try ProjectStage(expressions, log: log)
            return (stage, .project(.passUnretained(stage)))
        case .prependSortKey(let parts):
            let stage = try SortKeyStage(parts, log: log)
            return (stage, .sortKey(.passUnretained(stage)))
        case .prependGroupAndSortKey(let group, let rank):
            let stage = try SortKeyStage(group + rank, fieldBreak: group.count, log: log)
            return (stage, .sortKey(.passUnretained(stage)))
        case .parseCSV:
            var limit = Int.max
            if case .project(let expressions) = next, let k = ProjectStage.plainFieldLimit(expressions) {
                limit = k
            }
            let stage = CSVStage(fieldLimit: limit)
            return (stage, .csv(.passUnretained(stage)))
        case .parseJSON(let paths):
            let stage = JSONStage(paths, log: log)
            return (stage, .json(.passUnretained(stage)))
        case .prependJoinKey(let expression, let side, let salt):
            let stage = try JoinKeyStage(expression, side: side, salt: salt, log: log)
            return (stage, .joinKey(.passUnretained(stage)))
        case .joinLookup(let lookup):
            guard sideTables.indices.contains(lookup.side) else {
                throw OperatorError("join: the right side of a broadcast join was not loaded")
            }
            let stage = try JoinLookupStage(lookup, table: sideTables[lookup.side], log: log)
            return (stage, .joinLookup(.passUnretained(stage)))
        case .stream:
            // Compiled by `init`, which keeps the stage in `streams`.
            preconditionFailure("stream stages are compiled by init")
        case .counter(let name, let condition):
            let stage = try CounterStage(name, condition: condition, table: counts, log: log)
            return (stage, .counter(.passUnretained(stage)))
        case .probe(let name):
            let stage = ProbeStage(name, table: counts)
            return (stage, .probe(.passUnretained(stage)))
        }
    }

    /// Runs stage `index` and, through its continuation, every stage after it. The last stage hands
    /// its outputs straight to `emit`.
    @inline(__always)
    func run(
        _ index: Int, _ record: UnsafeRawBufferPointer, _ file: UnsafeRawBufferPointer,
        _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let stage = stages[index]
        if index == stages.count - 1 {
            try stage.process(record, file: file, next: emit)
        } else {
            try stage.process(record, file: file) { output in
                try runRest(index + 1, output, file, emit)
            }
        }
    }

    /// `run` for the stages after the first (not inlined: it recurses).
    @inline(never)
    func runRest(
        _ index: Int, _ record: UnsafeRawBufferPointer, _ file: UnsafeRawBufferPointer,
        _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try run(index, record, file, emit)
    }
}

/// An unretained reference to a compiled stage, by concrete type. Only valid while the
/// `PipelineStorage` that owns the stage lives.
enum StageRef {
    case grep(Unmanaged<GrepStage>)
    case words(Unmanaged<WordsStage>)
    case changeCase(Unmanaged<CaseStage>)
    case trim(Unmanaged<TrimStage>)
    case split(Unmanaged<SplitStage>)
    case pick(Unmanaged<PickStage>)
    case extract(Unmanaged<ExtractStage>)
    case tagFile(Unmanaged<TagFileStage>)
    case filter(Unmanaged<FilterStage>)
    case project(Unmanaged<ProjectStage>)
    case sortKey(Unmanaged<SortKeyStage>)
    case csv(Unmanaged<CSVStage>)
    case json(Unmanaged<JSONStage>)
    case joinKey(Unmanaged<JoinKeyStage>)
    case stream(Unmanaged<StreamStage>)
    case joinLookup(Unmanaged<JoinLookupStage>)
    case counter(Unmanaged<CounterStage>)
    case probe(Unmanaged<ProbeStage>)

    @inline(__always)
    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        switch self {
        case .grep(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .words(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .changeCase(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .trim(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .split(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .pick(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .extract(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .tagFile(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .filter(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .project(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .sortKey(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .csv(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .json(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .joinKey(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .stream(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .joinLookup(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .counter(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        case .probe(let s): try s._withUnsafeGuaranteedRef { try $0.process(record, file: file, next: next) }
        }
    }
}

import MrshPlan

/// The counts of a pipeline's `counter` stages and `explain analyze` probes, shared by its stages and read
/// by the task runner when the task ends (`RecordPipeline.addCounts`). One slot per stage: a stage adds to
/// its own slot, so no lookup by name happens per record.
final class CounterTable {
    enum Kind { case user, probe }
    private(set) var names: [String] = []
    private(set) var kinds: [Kind] = []
    var records: [Int64] = []
    var bytes: [Int64] = []

    /// A new slot for a stage.
    func slot(_ name: String, _ kind: Kind) -> Int {
        names.append(name)
        kinds.append(kind)
        records.append(0)
        bytes.append(0)
        return names.count - 1
    }

    /// Adds every slot to `counters` (user counters by name, probes into `stages`).
    func add(to counters: inout Counters) {
        for index in names.indices {
            switch kinds[index] {
            case .user: counters.user[names[index], default: 0] += records[index]
            case .probe: counters.stages[names[index], default: StageCount()].add(StageCount(records: records[index], bytes: bytes[index]))
            }
        }
    }
}

/// `counter "NAME" [where E]`: counts the records (for which E is true) and passes every record on
/// unchanged. A record E cannot evaluate is a bad record, as in `where`: reported to the pipeline's
/// `BadRecordLog` and dropped.
final class CounterStage: RecordStage {
    private let table: CounterTable
    private let slot: Int
    private let program: ExpressionProgram?
    private let evaluator: ExpressionEvaluator?
    private let log: BadRecordLog

    init(_ name: String, condition: FieldExpression?, table: CounterTable, log: BadRecordLog) throws {
        self.table = table
        slot = table.slot(name, .user)
        if let condition {
            let program = try ExpressionProgram(condition, context: "counter")
            self.program = program
            evaluator = ExpressionEvaluator([program])
        } else {
            program = nil
            evaluator = nil
        }
        self.log = log
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        if let program, let evaluator {
            evaluator.begin(record)
            guard let value = evaluator.evaluate(program) else {
                log.report(evaluator, program)
                return
            }
            if case .boolean(true) = value { table.records[slot] += 1 }
        } else {
            table.records[slot] += 1
        }
        try next(record)
    }
}

/// An `explain analyze` probe: counts the records and bytes passing between two stages. Only compiled into
/// the plans `explain analyze` runs, so other tasks never pay for it.
final class ProbeStage: RecordStage {
    private let table: CounterTable
    private let slot: Int

    init(_ name: String, table: CounterTable) {
        self.table = table
        slot = table.slot(name, .probe)
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        table.records[slot] += 1
        table.bytes[slot] += Int64(record.count)
        try next(record)
    }
}

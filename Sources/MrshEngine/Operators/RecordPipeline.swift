import MrshPlan

/// A fused chain of record operators, compiled once per task from `[RecordOp]`.
///
/// The output of op i is the input of op i+1; one input record can produce many output records
/// (`words`, `extract`) or none (`grep`). Each stage reuses its own scratch buffer, so in steady state
/// `process` allocates nothing. Use an instance from one thread at a time; a copy of a pipeline gets its
/// own scratch state the first time it processes a record.
public struct RecordPipeline {
    private var storage: PipelineStorage

    /// Compiles `ops` (regexes are compiled here, once).
    /// - Throws: `OperatorError` with a readable message for a bad regex, an empty `split` separator or
    ///   `extract` literal, or a `pick` field number below 1.
    public init(_ ops: [RecordOp]) throws {
        storage = try PipelineStorage(ops)
    }

    /// True when the pipeline has no operators: every record comes out unchanged.
    public var isIdentity: Bool { storage.stages.isEmpty }

    /// Feeds one record through the fused operators; calls `emit` for every output record.
    /// - Parameters:
    ///   - record: the record's bytes, without newline.
    ///   - file: the input file name's bytes (for `tag file`).
    ///   - emit: receives each output record; the buffer is valid only during the call.
    public mutating func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.recompiled()
        }
        try storage.run(0, record, file, emit)
    }
}

/// The compiled stages behind a `RecordPipeline`.
final class PipelineStorage {
    let ops: [RecordOp]
    let stages: [any RecordStage]

    init(_ ops: [RecordOp]) throws {
        self.ops = ops
        stages = try ops.map(Self.compile)
    }

    /// A fresh copy with its own scratch buffers (for a copied `RecordPipeline`).
    func recompiled() -> PipelineStorage {
        do {
            return try PipelineStorage(ops)
        } catch {
            // These very ops compiled before and compiling is deterministic, so this cannot happen.
            preconditionFailure("recompiling record operators failed: \(error)")
        }
    }

    private static func compile(_ op: RecordOp) throws -> any RecordStage {
        switch op {
        case .grep(let pattern, let negated): return try GrepStage(pattern, negated: negated)
        case .words: return WordsStage()
        case .lower: return CaseStage(upper: false)
        case .upper: return CaseStage(upper: true)
        case .trim: return TrimStage()
        case .split(let separator): return try SplitStage(separator)
        case .pick(let fields): return try PickStage(fields)
        case .extract(let pattern): return try ExtractStage(pattern)
        case .tagFile: return TagFileStage()
        }
    }

    /// Runs stage `index` and, through its continuation, every stage after it.
    func run(
        _ index: Int, _ record: UnsafeRawBufferPointer, _ file: UnsafeRawBufferPointer,
        _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        if index == stages.count {
            try emit(record)
            return
        }
        try stages[index].process(record, file: file) { output in
            try run(index + 1, output, file, emit)
        }
    }
}

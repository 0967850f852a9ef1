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
    public var isIdentity: Bool { storage.isEmpty }

    /// Feeds one record through the fused operators; calls `emit` for every output record.
    /// - Parameters:
    ///   - record: the record's bytes, without newline.
    ///   - file: the input file name's bytes (for `tag file`).
    ///   - emit: receives each output record; the buffer is valid only during the call.
    /// - Throws: what `emit` throws, and `EngineError.badRecord` for a record an operator cannot read
    ///   (`parse json` of invalid JSON).
    public mutating func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.recompiled()
        }
        if storage.isEmpty {
            try emit(record)
        } else {
            try storage.run(0, record, file, emit)
        }
    }
}

import MrshPlan

/// A fused chain of record operators, compiled once per task from `[RecordOp]`.
///
/// The output of op i is the input of op i+1; one input record can produce many output records
/// (`words`, `extract`) or none (`grep`). Each stage reuses its own scratch buffer, so in steady state
/// `process` allocates nothing (expression stages included: see `ExpressionEvaluator`). Use an instance
/// from one thread at a time; a copy of a pipeline gets its own scratch state (and its own count of
/// skipped records) the first time it processes a record.
public struct RecordPipeline {
    private var storage: PipelineStorage

    /// Compiles `ops` (regexes and expressions are compiled here, once).
    /// - Parameter badRecords: what a record an expression cannot evaluate does (a non-number in
    ///   arithmetic, a division by zero): with `.skip` it is dropped and counted in `skippedRecords`; with
    ///   `.fail` it is dropped and `processChecked` throws `EngineError.badRecord` (`process` cannot throw
    ///   it: it only rethrows).
    /// - Throws: `OperatorError` with a readable message for a bad regex, an empty `split` separator or
    ///   `extract` literal, or a `pick` field number below 1.
    /// - Parameter stream: what `stream` stages may do; nil: a record reaching one fails the task.
    public init(_ ops: [RecordOp], badRecords: BadRecordPolicy = .fail, stream: StreamContext? = nil) throws {
        storage = try PipelineStorage(ops, badRecords: badRecords, stream: stream)
    }

    /// True when the pipeline holds a `stream` stage: its caller must call `finish` after the last record.
    public var hasStreams: Bool { !storage.streams.isEmpty }

    /// A pipeline whose `.joinLookup`s probe `sideTables` (the map task's loaded side inputs, by index).
    package init(
        _ ops: [RecordOp], badRecords: BadRecordPolicy = .fail, stream: StreamContext? = nil, sideTables: [JoinTable]
    ) throws {
        storage = try PipelineStorage(ops, badRecords: badRecords, stream: stream, sideTables: sideTables)
    }

    /// Bad records dropped under `.skip` (by this copy of the pipeline).
    public var skippedRecords: Int64 { storage.badRecords.skipped }

    /// Adds what this copy's `counter` stages and `explain analyze` probes counted to `counters`.
    public func addCounts(to counters: inout Counters) { storage.counts.add(to: &counters) }

    /// True when the pipeline has no operators: every record comes out unchanged.
    public var isIdentity: Bool { storage.isEmpty }

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
        if storage.isEmpty {
            try emit(record)
        } else {
            try storage.run(0, record, file, emit)
        }
    }

    /// `process`, then, under `BadRecordPolicy.fail`, throws `EngineError.badRecord` (with the reason, such
    /// as "'abc' is not a number in $3 + 1") when an expression could not evaluate the record. What the
    /// task runners call.
    public mutating func processChecked(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try process(record, file: file, emit: emit)
        if let failure = storage.badRecords.takeFailure() {
            throw EngineError.badRecord(failure)
        }
        if !storage.streams.isEmpty, let failure = storage.streamFailure { throw failure }
    }

    /// After the last record: ends the pipeline's `stream` commands (see `StreamStage.finish`), handing their
    /// remaining output to `emit`, and throws when a command failed (exited non-zero, was killed) or a
    /// later stage met a bad record. Nothing to do for a pipeline without `stream`.
    public mutating func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !storage.streams.isEmpty else { return }
        try storage.finishStreams(emit)
        if let failure = storage.badRecords.takeFailure() {
            throw EngineError.badRecord(failure)
        }
        if let failure = storage.streamFailure { throw failure }
    }
}

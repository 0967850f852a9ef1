import MrshPlan

/// The reduce side of one partition: hands the merged entry stream (in shuffle order) to the shuffle's
/// kind, which groups and reduces it, and writes the records the kind emits through the job's reduce
/// operators. What the kinds share lives here: the entry count, cancellation, a reusable line buffer and
/// group key, and emitting. Memory: one key and its result at a time.
package final class PartReducer {
    private let layout: ShuffleLayout
    private var pipeline: RecordPipeline
    private let output: LineOutput
    private let cancel: CancellationFlag?
    /// The record being built (a kind appends to it, then calls `emitLine`).
    var line: [UInt8] = []
    /// The key of the current group (`startGroup`).
    private var groupKey: [UInt8] = []
    /// Scratch for a kind that compares each value with the one before.
    var previousValue: [UInt8] = []
    private(set) var entriesIn: Int64 = 0
    /// The task's memory budget, for a kind that buffers a key's entries (a join's right records).
    let memoryBudget: Int
    /// A fresh temporary file path in the task's scratch space, for a kind that spills (nil: none).
    let temporaryPath: (() throws -> String)?
    /// Records the reduce operators' expressions skipped as bad (`BadRecordPolicy.skip`).
    var skippedRecords: Int64 { pipeline.skippedRecords }
    /// Adds what the reduce operators' `counter` stages and probes counted.
    func addCounts(to counters: inout Counters) { pipeline.addCounts(to: &counters) }

    init(
        layout: ShuffleLayout, reduceOps: [RecordOp], output: LineOutput, badRecords: BadRecordPolicy = .fail,
        stream: StreamContext? = nil, cancel: CancellationFlag?, memoryBudget: Int = 64 << 20,
        temporaryPath: (() throws -> String)? = nil
    ) throws {
        self.layout = layout
        self.memoryBudget = memoryBudget
        self.temporaryPath = temporaryPath
        self.pipeline = try RecordPipeline(reduceOps, badRecords: badRecords, stream: stream)
        self.output = output
        self.cancel = cancel
    }

    func reduce(_ merger: EntryMerger) throws {
        try layout.shuffle.kind.reduce(merger, into: self)
    }

    /// Starts a group of entries whose a is `key`, and a line that begins `key TAB`.
    @inline(__always)
    func startGroup(_ key: UnsafeRawBufferPointer) {
        groupKey.removeAll(keepingCapacity: true)
        groupKey.append(contentsOf: key)
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: key)
        line.append(0x09)
    }

    /// Throws when the sum of the current group cannot be printed (`PartialAggregate.check`).
    @inline(__always)
    func check(_ partial: PartialAggregate, _ aggregate: Aggregate) throws {
        // The common case, an integer sum inside Int128, without a call.
        if partial.wraps == 0 && partial.flags == 0 { return }
        try groupKey.withUnsafeBytes { try partial.check(aggregate, key: $0) }
    }

    /// Whether `a` is the current group's key.
    @inline(__always)
    func isInGroup(_ a: UnsafeRawBufferPointer) -> Bool {
        groupKey.withUnsafeBytes { Bytes.equal($0, a) }
    }

    /// Emits every entry's a as a record (without its first field when `dropKey`), in merge order, at
    /// most `limit`.
    func emitRecords(_ merger: EntryMerger, limit: Int?, dropKey: Bool = false) throws {
        var left = limit ?? Int.max
        while left > 0, let top = merger.top {
            try emit(dropKey ? Bytes.splitKey(top.a).value : top.a)
            left -= 1
            try advance(merger)
        }
    }

    @inline(__always)
    func advance(_ merger: EntryMerger) throws {
        entriesIn += 1
        if entriesIn & 0xFFFF == 0 { try cancel?.check() }
        try merger.advanceTop()
    }

    /// For a kind that emits many records per entry (a join): throws when the task is cancelled.
    func checkCancellation() throws {
        try cancel?.check()
    }

    func emitLine() throws {
        try line.withUnsafeBytes { try emit($0) }
    }

    @inline(__always)
    func emit(_ record: UnsafeRawBufferPointer) throws {
        if pipeline.isIdentity {
            try output.writeLine(record)
        } else {
            let output = self.output
            try pipeline.processChecked(record, file: Bytes.empty) { try output.writeLine($0) }
        }
    }

    /// After the last group: ends the reduce operators' `stream` commands (their last output is written).
    func finish() throws {
        let output = self.output
        try pipeline.finish { try output.writeLine($0) }
    }

    /// Appends the decimal digits of `value` without a String.
    static func appendInteger(_ value: Int64, to line: inout [UInt8]) {
        if value == 0 {
            line.append(0x30)
            return
        }
        var magnitude = value.magnitude
        if value < 0 { line.append(0x2D) }
        let start = line.count
        while magnitude > 0 {
            line.append(0x30 + UInt8(magnitude % 10))
            magnitude /= 10
        }
        line[start...].reverse()
    }
}

import MrshPlan

/// Runs one map task attempt on this host (worker side): reads the splits, applies the job's map
/// operators, and writes the map output: for a shuffled job a blob of `store` with sorted, combined
/// partitions and an index (see `MapOutputFormat`); for a map-only job lines, into a blob or into the
/// task's part file of a written directory.
///
/// Callable from any process given the spec, a local store and a fetcher: the cluster's workers use it.
/// The work runs on a thread of its own (`Offload`); cancelling the calling task stops it.
public enum MapTaskRunner {
    public static func run(
        _ spec: MapTaskSpec, store: BlobStore, fetcher: any BlobFetcher, holder: BlobHolder = .local,
        address: String = "", badRecords: BadRecordPolicy = .fail, stream: StreamContext = StreamContext(allowed: true)
    ) async throws -> MapTaskResult {
        let started = ContinuousClock.now
        let log = TaskLog.current
        log?.add("map task \(spec.task) of job \(spec.job.index), attempt \(spec.attempt): \(TaskLog.describe(spec.splits))"
            + (spec.sideSplits.isEmpty ? "" : ", and \(spec.sideSplits.count) side input\(spec.sideSplits.count == 1 ? "" : "s") read whole"))
        let scratch = try store.temporaryDirectory("fetch")
        defer { FileIO.removeTree(scratch) }
        // A broadcast join's side inputs (the right side), read whole, through the same fetcher as the splits.
        var sideInputs: [[TaskInput]] = []
        defer { for inputs in sideInputs { TaskInput.removeCopies(inputs) } }
        for splits in spec.sideSplits {
            sideInputs.append(try await TaskInput.resolve(splits, fetcher: fetcher, scratch: scratch))
        }
        let inputs = try await TaskInput.resolve(spec.splits, fetcher: fetcher, scratch: scratch)
        defer { TaskInput.removeCopies(inputs) }
        let id = BlobID.mapOutput(spec.job, task: spec.task, attempt: spec.attempt)
        let loaded = sideInputs
        var (sizes, counters) = try await Offload.run { cancel in
            // `stream` commands run in the task's scratch directory.
            var context = stream.logging(to: log)
            context.directory = context.directory ?? scratch
            context.cancel = cancel
            return try runBlocking(
                spec, inputs: inputs, sideInputs: loaded, store: store, id: id, badRecords: badRecords, stream: context,
                cancel: cancel)
        }
        counters.taskNanoseconds = TaskClock.nanoseconds(since: started)
        log?.add(TaskLog.describe(counters, output: spec.spec.shuffle == nil ? "records" : "map output entries"))
        let output: PartOutput
        if spec.spec.shuffle == nil, case .file(let path) = spec.destination {
            output = .file(path: path)
        } else {
            output = .blob(store.location(id, holder: holder, address: address))
        }
        return MapTaskResult(
            task: spec.task, attempt: spec.attempt, output: output, partitionSizes: sizes, counters: counters)
    }

    /// The blocking part of `run`, on the current thread. `sideInputs`: the readable inputs of each of the
    /// job's side inputs (`MapTaskSpec.sideSplits`).
    static func runBlocking(
        _ spec: MapTaskSpec, inputs: [TaskInput], sideInputs: [[TaskInput]] = [], store: BlobStore, id: BlobID,
        badRecords: BadRecordPolicy, stream: StreamContext? = nil, cancel: CancellationFlag?
    ) throws -> ([Int64], Counters) {
        let source = spec.jobSource
        let ops = source.mapOps
        // The block scans (literal grep, word count) see lines; CSV records go through `forEachRecord`.
        let scan = source.format == .lines ? LiteralGrepScan(ops) : nil
        var counters = Counters()
        var remaining = source.mapLimit ?? Int.max
        let sideTables = try loadSideTables(
            spec, sideInputs, badRecords: badRecords, stream: stream, counters: &counters, cancel: cancel)

        if let shuffle = spec.spec.shuffle {
            let temporary = try store.beginBlob(id)
            var committed = false
            defer { if !committed { FileIO.unlinkQuietly(temporary) } }
            let layout = ShuffleLayout(shuffle)
            let partitioner = RecordPartitioner(shuffle: shuffle, partitioner: spec.partitioner ?? .hash(partitions: 1))
            let collector = MapCollector(
                layout: layout, partitioner: partitioner, memoryBudget: spec.memoryBudget, store: store,
                badRecords: badRecords, cancel: cancel)
            if scan == nil && ops == [.words] && source.mapLimit == nil && collector.countsKeys && source.format == .lines {
                // The word-count fast path: `map words` runs here on whole blocks, not through the
                // `RecordPipeline` (`WordsStage`), which every other pipeline uses.
                try countWords(inputs, collector, &counters, cancel)
            } else {
                var pipeline = try RecordPipeline(
                    scan == nil ? ops : Array(ops.dropFirst()), badRecords: badRecords, stream: stream,
                    sideTables: sideTables)
                try forEachRecord(inputs, source.format, scan, &pipeline, &counters, &remaining, cancel) { record in
                    try collector.add(record)
                }
                try pipeline.finish { record in
                    if remaining > 0 {
                        try collector.add(record)
                        remaining -= 1
                    }
                }
                counters.skippedRecords += pipeline.skippedRecords
                pipeline.addCounts(to: &counters)
            }
            let (sizes, entries) = try collector.finish(into: temporary)
            try store.commitBlob(id, from: temporary)
            committed = true
            counters.recordsOut = entries
            counters.bytesOut = sizes.reduce(0, +)
            counters.spilledBytes = collector.spilledBytes
            counters.skippedRecords += collector.skippedRecords
            return (sizes, counters)
        }

        // A map-only job: the task's lines, straight into the output directory's attempt file when the
        // job writes one, else into a blob.
        let destination: String
        switch spec.destination {
        case .file(let path): destination = path
        case .blob: destination = try store.beginBlob(id)
        }
        var succeeded = false
        defer { if !succeeded { FileIO.unlinkQuietly(destination) } }
        let output = LineOutput(try BufferedWriter(creating: destination))
        var pipeline = try RecordPipeline(
            scan == nil ? ops : Array(ops.dropFirst()), badRecords: badRecords, stream: stream, sideTables: sideTables)
        try forEachRecord(inputs, source.format, scan, &pipeline, &counters, &remaining, cancel) { record in
            try output.writeLine(record)
        }
        try pipeline.finish { record in
            if remaining > 0 {
                try output.writeLine(record)
                remaining -= 1
            }
        }
        counters.skippedRecords += pipeline.skippedRecords
        pipeline.addCounts(to: &counters)
        try output.close()
        if case .blob = spec.destination { try store.commitBlob(id, from: destination) }
        succeeded = true
        counters.recordsOut = output.lines
        counters.bytesOut = output.bytes
        return ([], counters)
    }

    /// Reads each of the job's side inputs (`JobSpec.sideInputs`: a broadcast join's right side) whole with its
    /// own format and map operators, which end with `.prependJoinKey` on the right side, into a `JoinTable`.
    /// Its bad records fail the task (or, skipped, are counted) as the task's own do; its records are not
    /// counted as the task's input.
    private static func loadSideTables(
        _ spec: MapTaskSpec, _ sideInputs: [[TaskInput]], badRecords: BadRecordPolicy, stream: StreamContext?,
        counters: inout Counters, cancel: CancellationFlag?
    ) throws -> [JoinTable] {
        guard !spec.spec.sideInputs.isEmpty else { return [] }
        guard sideInputs.count == spec.spec.sideInputs.count else {
            throw EngineError.failed(
                "map task \(spec.task) of job \(spec.job) has the splits of \(sideInputs.count) side inputs, not \(spec.spec.sideInputs.count)")
        }
        var tables: [JoinTable] = []
        for (side, inputs) in zip(spec.spec.sideInputs, sideInputs) {
            let table = JoinTable()
            let scan = side.format == .lines ? LiteralGrepScan(side.mapOps) : nil
            var pipeline = try RecordPipeline(
                scan == nil ? side.mapOps : Array(side.mapOps.dropFirst()), badRecords: badRecords, stream: stream)
            var sideCounters = Counters()
            var remaining = side.mapLimit ?? Int.max
            try forEachRecord(inputs, side.format, scan, &pipeline, &sideCounters, &remaining, cancel) { record in
                try table.add(record)
            }
            try pipeline.finish { record in try table.add(record) }
            counters.skippedRecords += pipeline.skippedRecords
            tables.append(table)
        }
        return tables
    }

    /// `map words | reduce count`: scans whole read blocks for words (a word never spans lines) and queues
    /// them, as slices of the block, for the collector's batched counting; no per-line or per-word copy.
    private static func countWords(
        _ inputs: [TaskInput], _ collector: MapCollector, _ counters: inout Counters, _ cancel: CancellationFlag?
    ) throws {
        var recordsIn: Int64 = 0
        for input in inputs {
            var reader = try LineReader(path: input.path, offset: input.offset, length: input.length, bufferSize: 4 << 20)
            try reader.forEachBlock(cancel: cancel) { block in
                let newlines = try WordScanner.forEachWordCountingNewlines(in: block) { word in
                    try collector.countStableKey(word)
                }
                // A last line without '\n' is a line too (the block is never empty).
                let last = block.count > 0 ? block.load(fromByteOffset: block.count - 1, as: UInt8.self) : 0x0A
                recordsIn += Int64(newlines) + (last == 0x0A ? 0 : 1)
                try collector.flushStableKeys()
                return true
            }
            counters.bytesIn += reader.bytesRead
        }
        counters.recordsIn = recordsIn
    }

    /// Reads every input record (a line, or a CSV record of a `.csv` format), runs it through the pipeline
    /// and hands each output record to `body`, stopping after `remaining` output records. With a `scan`,
    /// only the lines holding its literal reach `pipeline` (which then holds the operators after that first
    /// `grep`).
    private static func forEachRecord(
        _ inputs: [TaskInput], _ format: RecordFormat, _ scan: LiteralGrepScan?, _ pipeline: inout RecordPipeline, _ counters: inout Counters, _ remaining: inout Int,
        _ cancel: CancellationFlag?, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var recordsIn: Int64 = 0
        for input in inputs {
            if remaining <= 0 { break }
            var reader = try LineReader(path: input.path, offset: input.offset, length: input.length)
            let name = Array(input.name.utf8)
            // The start of the current line inside the scanned block (`reader.recordOffset` is the block's).
            var lineInBlock = 0
            do {
                try name.withUnsafeBytes { file in
                    if case .csv(let skipHeader) = format {
                        try reader.forEachCSVRecord(skipFirst: skipHeader && input.startsInput, cancel: cancel) { record in
                            recordsIn += 1
                            try pipeline.processChecked(record, file: file) { output in
                                if remaining > 0 {
                                    try body(output)
                                    remaining -= 1
                                }
                            }
                            return remaining > 0
                        }
                    } else if let scan {
                        try reader.forEachBlock(cancel: cancel) { block in
                            recordsIn += LiteralGrepScan.lineCount(block)
                            return try scan.forEachMatch(in: block) { line in
                                if let b = block.baseAddress, let l = line.baseAddress { lineInBlock = b.distance(to: l) }
                                if pipeline.isIdentity {
                                    try body(line)
                                    remaining -= 1
                                } else {
                                    try pipeline.processChecked(line, file: file) { record in
                                        if remaining > 0 {
                                            try body(record)
                                            remaining -= 1
                                        }
                                    }
                                }
                                return remaining > 0
                            }
                        }
                    } else if pipeline.isIdentity {
                        try reader.forEachLine(cancel: cancel) { line in
                            recordsIn += 1
                            try body(line)
                            remaining -= 1
                            return remaining > 0
                        }
                    } else {
                        try reader.forEachLine(cancel: cancel) { line in
                            recordsIn += 1
                            try pipeline.processChecked(line, file: file) { record in
                                if remaining > 0 {
                                    try body(record)
                                    remaining -= 1
                                }
                            }
                            return remaining > 0
                        }
                    }
                }
            } catch EngineError.badRecord(let reason) {
                // Name the record: the task's failure names only its first split.
                let offset = reader.recordOffset + Int64(scan == nil ? 0 : lineInBlock)
                throw EngineError.badRecord("\(reason) (the record at byte \(offset) of \(input.name))")
            }
            counters.bytesIn += reader.bytesRead
        }
        counters.recordsIn = recordsIn
    }
}

/// A task's run time, for `Counters.taskNanoseconds`.
enum TaskClock {
    static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}

/// Newline-terminated records to a buffered file.
final class LineOutput {
    private var writer: BufferedWriter
    private(set) var lines: Int64 = 0

    init(_ writer: consuming BufferedWriter) {
        self.writer = writer
    }

    @inline(__always)
    func writeLine(_ record: UnsafeRawBufferPointer) throws {
        try writer.write(record)
        try writer.writeByte(0x0A)
        lines += 1
    }

    var bytes: Int64 { writer.bytesWritten }

    func close() throws { try writer.close() }
}

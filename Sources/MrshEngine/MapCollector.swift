import MrshPlan

/// The shuffled map side: turns records into entries (`ShuffleLayout`), buffers them in a
/// `ShuffleBuffer`, spills sorted and combined runs when the buffer passes the memory budget, and merges
/// the runs into one map-output file at the end.
final class MapCollector {
    private let layout: ShuffleLayout
    private let partitioner: RecordPartitioner
    private let memoryBudget: Int
    private let store: BlobStore
    private let badRecords: BadRecordPolicy
    private let cancel: CancellationFlag?
    private let buffer = ShuffleBuffer()
    private var runs: [String] = []
    private var partialScratch = [UInt8](repeating: 0, count: 32)
    private var recordCount: Int64 = 0
    private(set) var spilledBytes: Int64 = 0
    private(set) var skippedRecords: Int64 = 0
    /// Runs merged at once; more are merged in several passes.
    static let fanIn = 64

    init(
        layout: ShuffleLayout, partitioner: RecordPartitioner, memoryBudget: Int, store: BlobStore,
        badRecords: BadRecordPolicy, cancel: CancellationFlag?
    ) {
        self.layout = layout
        self.partitioner = partitioner
        self.memoryBudget = max(memoryBudget, 1024)
        self.store = store
        self.badRecords = badRecords
        self.cancel = cancel
    }

    deinit {
        for run in runs { FileIO.unlinkQuietly(run) }
    }

    /// Adds one map output record.
    @inline(__always)
    func add(_ record: UnsafeRawBufferPointer) throws {
        if case .count = layout.shuffle {
            recordCount += 1
            return
        }
        let partition = partitioner.partition(of: record)
        switch layout.shuffle {
        case .aggregate(let aggregate):
            let (key, value) = Bytes.splitKey(record)
            switch aggregate {
            case .collect, .distinct:
                buffer.append(partition: partition, a: key, b: value)
            case .count:
                try appendPartial(partition, key, aggregate, PartialAggregate(count: 1))
            case .sum, .min, .max, .avg:
                guard let number = NumericValue.parse(value) else {
                    if badRecords == .skip {
                        skippedRecords += 1
                        return
                    }
                    throw EngineError.badRecord("value '\(MapCollector.excerpt(value))' is not a number")
                }
                try appendPartial(partition, key, aggregate, PartialAggregate(number: number, count: 1))
            }
        case .sort, .distinct, .gather:
            buffer.append(partition: partition, a: record, b: Bytes.empty)
        case .count:
            break
        }
        if buffer.footprint >= memoryBudget { try spill() }
    }

    /// Writes the map output to `path`; returns the size of every partition.
    func finish(into path: String) throws -> (sizes: [Int64], entries: Int64) {
        if case .count = layout.shuffle {
            try appendPartial(0, Bytes.empty, .count, PartialAggregate(count: recordCount))
        }
        if runs.isEmpty {
            buffer.sort(layout: layout)
            let writer = try RunWriter(path: path, layout: layout, partitionCount: partitioner.partitionCount)
            try buffer.write(to: writer)
            buffer.removeAll()
            let sizes = try writer.finish()
            return (sizes, writer.entriesWritten)
        }
        if !buffer.isEmpty { try spill() }
        while runs.count > MapCollector.fanIn {
            try cancel?.check()
            let group = Array(runs.prefix(MapCollector.fanIn))
            let merged = try store.temporaryPath("merge")
            _ = try merge(group, into: merged)
            for run in group { FileIO.unlinkQuietly(run) }
            runs = Array(runs.dropFirst(MapCollector.fanIn)) + [merged]
        }
        let result = try merge(runs, into: path)
        for run in runs { FileIO.unlinkQuietly(run) }
        runs = []
        return result
    }

    private func appendPartial(_ partition: Int, _ key: UnsafeRawBufferPointer, _ aggregate: Aggregate, _ partial: PartialAggregate) throws {
        let size = PartialAggregate.encodedSize(aggregate)
        partialScratch.withUnsafeMutableBytes { scratch in
            // 32 bytes >= every encoded size, so baseAddress is non-nil.
            partial.encode(aggregate, into: scratch.baseAddress!)
            buffer.append(partition: partition, a: key, b: UnsafeRawBufferPointer(rebasing: scratch[0..<size]))
        }
    }

    private func spill() throws {
        try cancel?.check()
        buffer.sort(layout: layout)
        let path = try store.temporaryPath("spill")
        runs.append(path)
        let writer = try RunWriter(path: path, layout: layout, partitionCount: partitioner.partitionCount)
        try buffer.write(to: writer)
        _ = try writer.finish()
        spilledBytes += writer.bytesWritten
        buffer.removeAll()
    }

    /// Merges sorted runs partition by partition into one file, combining again.
    private func merge(_ paths: [String], into output: String) throws -> (sizes: [Int64], entries: Int64) {
        let indexes = try paths.map { try MapOutputFormat.readIndex(path: $0) }
        let writer = try RunWriter(path: output, layout: layout, partitionCount: partitioner.partitionCount)
        let readerBuffer = max(1 << 14, min(1 << 20, memoryBudget / max(1, paths.count)))
        for partition in 0..<partitioner.partitionCount {
            try cancel?.check()
            var readers: [EntryReader] = []
            for (path, index) in zip(paths, indexes) where !index[partition].isEmpty {
                readers.append(try EntryReader(path: path, range: index[partition], bufferSize: readerBuffer))
            }
            let merger = try EntryMerger(readers: readers, layout: layout)
            while let top = merger.top {
                try writer.add(partition: partition, a: top.a, b: top.b)
                try merger.advanceTop()
            }
        }
        let sizes = try writer.finish()
        return (sizes, writer.entriesWritten)
    }

    /// A value for an error message: at most 60 bytes, decoded leniently.
    static func excerpt(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.count > 60 ? text + "..." : text
    }
}

import MrshPlan

/// The shuffled map side: turns records into entries (the layout's `EntryRule`), buffers them in a
/// `ShuffleBuffer`, spills sorted and combined runs when the buffer passes the memory budget, and merges
/// the runs into one map-output file at the end.
final class MapCollector {
    private let layout: ShuffleLayout
    private let partitioner: RecordPartitioner
    private let memoryBudget: Int
    private let store: BlobStore
    private let badRecords: BadRecordPolicy
    private let cancel: CancellationFlag?
    private let buffer: ShuffleBuffer
    /// The in-mapper combiner, for shuffles that fold or deduplicate (`usesTable`).
    private let table: CombineTable
    private let usesTable: Bool
    /// Keys of `reduce count` waiting for a batched lookup (`drainCounts`), copied into `pendingBytes`
    /// (records are only valid during `add`), with their hashes. Batching lets the slot and key
    /// prefetches of one key overlap the lookups of the others.
    private let pendingBytes = UnsafeMutableRawPointer.allocate(byteCount: MapCollector.batch * MapCollector.batchKeyLimit, alignment: 16)
    private let pendingKeys = UnsafeMutablePointer<UnsafeRawBufferPointer>.allocate(capacity: MapCollector.batch)
    private let pendingHashes = UnsafeMutablePointer<UInt64>.allocate(capacity: MapCollector.batch)
    private var pendingCount = 0
    static let batch = 16
    /// Longer keys are looked up at once, unbatched.
    static let batchKeyLimit = 64
    private var runs: [String] = []
    private var recordCount: Int64 = 0
    private(set) var spilledBytes: Int64 = 0
    private(set) var skippedRecords: Int64 = 0
    /// Runs merged at once; more are merged in several passes.
    static let fanIn = 64
    /// `reduce AGG, ... by`: the compiled group-by, the partials of one record (`terms`), where its value
    /// fields start and end, and scratch for a padded key and an entry's b.
    private let group: GroupByShape?
    private let terms: UnsafeMutablePointer<PartialAggregate>
    private var valueStarts: [Int] = []
    private var valueEnds: [Int] = []
    private var keyScratch: [UInt8] = []
    private var entryScratch: [UInt8] = []

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
        buffer = ShuffleBuffer(limit: self.memoryBudget)
        let group = layout.groupBy.map(GroupByShape.init)
        self.group = group
        switch layout.combine {
        case .fold, .dedup: usesTable = true
        case .none, .limit, .limitPerA: usesTable = false
        case .grouped: usesTable = layout.groupBy?.isCombinable ?? false
        }
        var partialsPerEntry = 0
        if let group {
            partialsPerEntry = group.tuple.count
        } else if let aggregate = layout.foldAggregate, aggregate != .count {
            partialsPerEntry = 1
        }
        table = CombineTable(
            includesB: layout.combine == .dedup(includingB: true), partitioner: partitioner,
            budget: usesTable ? self.memoryBudget : 0, partialsPerEntry: partialsPerEntry,
            tuple: usesTable ? group?.tuple : nil)
        let slots = max(1, group?.tuple.count ?? 0)
        terms = .allocate(capacity: slots)
        terms.initialize(repeating: PartialAggregate(), count: slots)
        if let group {
            valueStarts = Array(repeating: 0, count: group.valueFields)
            valueEnds = Array(repeating: 0, count: group.valueFields)
        }
    }

    deinit {
        terms.deallocate()
        pendingBytes.deallocate()
        pendingKeys.deallocate()
        pendingHashes.deallocate()
        for run in runs { FileIO.unlinkQuietly(run) }
    }

    /// Adds one map output record, as an entry of the layout's `EntryRule`.
    @inline(__always)
    func add(_ record: UnsafeRawBufferPointer) throws {
        switch layout.entries {
        case .countRecords:
            recordCount += 1
        case .countKeys:
            let key = Bytes.splitKey(record).key
            guard key.count <= MapCollector.batchKeyLimit, let source = key.baseAddress else {
                try drainCounts()
                table.add(try combineIndex(key, Bytes.empty), 1)
                return
            }
            let hash = KeyHash.hash(key)
            table.prefetchSlot(hash)
            let copy = pendingBytes + pendingCount * MapCollector.batchKeyLimit
            copy.copyMemory(from: source, byteCount: key.count)
            pendingKeys[pendingCount] = UnsafeRawBufferPointer(start: copy, count: key.count)
            pendingHashes[pendingCount] = hash
            pendingCount += 1
            if pendingCount == MapCollector.batch { try drainCounts() }
        case .foldValues(let aggregate):
            let (key, value) = Bytes.splitKey(record)
            guard let partial = PartialAggregate.of(aggregate, value) else {
                if badRecords == .skip {
                    skippedRecords += 1
                    return
                }
                throw EngineError.badRecord("value '\(MapCollector.excerpt(value))' is not a number")
            }
            table.fold(try combineIndex(key, Bytes.empty), aggregate, partial)
        case .grouped:
            // A `.grouped` layout always has its group-by.
            try addGrouped(record, group.unsafelyUnwrapped)
        case .keyValuePairs(let dedup):
            let (key, value) = Bytes.splitKey(record)
            if dedup {
                _ = try combineIndex(key, value)
            } else {
                if !buffer.isEmpty && buffer.wouldPassLimit(adding: record.count) { try spill() }
                buffer.append(partition: partitioner.partition(of: record), a: key, b: value)
                if buffer.footprint >= memoryBudget { try spill() }
            }
        case .records(let dedup):
            if dedup {
                _ = try combineIndex(record, Bytes.empty)
            } else {
                if !buffer.isEmpty && buffer.wouldPassLimit(adding: record.count) { try spill() }
                buffer.append(partition: partitioner.partition(of: record), a: record, b: Bytes.empty)
                if buffer.footprint >= memoryBudget { try spill() }
            }
        }
    }

    /// `reduce AGG, ... by`: the record's key fields and values to a tuple of partials (folded in the table,
    /// or a tag-0 entry) and, unless every aggregation combines, one entry per non-empty value of each
    /// distinct, ndistinct and collect aggregation. A value a numeric aggregation cannot read makes the
    /// whole record bad (nothing of it is added).
    private func addGrouped(_ record: UnsafeRawBufferPointer, _ group: GroupByShape) throws {
        if group.tags.count > GroupByShuffle.aggregationLimit {
            throw EngineError.invalid("reduce ... by takes at most \(GroupByShuffle.aggregationLimit) aggregations")
        }
        let keyFields = group.groupBy.keyFields
        var key = Bytes.leadingFields(record, keyFields)
        // The values start after the key fields' TAB (at once without key fields).
        var position = keyFields == 0 ? 0 : key.count + 1
        var padded = false
        if keyFields > 0 && key.count == record.count {
            // Fewer fields than keys: the missing key fields are empty.
            var tabs = 0
            for byte in record where byte == 0x09 { tabs += 1 }
            if tabs < keyFields - 1 {
                keyScratch.removeAll(keepingCapacity: true)
                keyScratch.append(contentsOf: record)
                for _ in tabs..<(keyFields - 1) { keyScratch.append(0x09) }
                padded = true
            }
        }
        // Value fields: a missing one is empty.
        let count = record.count
        for v in 0..<group.valueFields {
            if position > count {
                valueStarts[v] = count
                valueEnds[v] = count
                continue
            }
            var end = position
            while end < count && record[end] != 0x09 { end += 1 }
            valueStarts[v] = position
            valueEnds[v] = end
            position = end + 1
        }
        let aggregations = group.groupBy.aggregations
        for (i, aggregation) in aggregations.enumerated() {
            let j = group.slot[i]
            if j < 0 { continue }
            let aggregate = group.tuple.aggregates[j]
            if aggregate == .count {
                terms[j] = PartialAggregate(count: 1)
                continue
            }
            let value = field(record, aggregation.input ?? 0)
            // A lone CR is the empty last field of a CRLF line.
            if value.isEmpty || (value.count == 1 && value[0] == 0x0D) {
                terms[j] = PartialAggregate()
            } else if let partial = PartialAggregate.of(aggregate, value) {
                terms[j] = partial
            } else {
                if badRecords == .skip {
                    skippedRecords += 1
                    return
                }
                throw EngineError.badRecord("value '\(MapCollector.excerpt(value))' is not a number")
            }
        }
        try keyScratch.withUnsafeBytes { paddedKey in
            if padded { key = paddedKey }
            if usesTable {
                table.foldTuple(try combineIndex(key, Bytes.empty), terms)
                return
            }
            let partition = partitioner.partitionCount > 1 ? partitioner.partition(ofKey: key) : 0
            let tuple = group.tuple
            entryScratch.removeAll(keepingCapacity: true)
            entryScratch.append(0)
            entryScratch.append(contentsOf: repeatElement(0, count: tuple.size))
            entryScratch.withUnsafeMutableBytes { tuple.encode(terms, into: $0.baseAddress.unsafelyUnwrapped + 1) }
            try appendBuffered(partition, key)
            for (i, aggregation) in aggregations.enumerated() where group.tags[i] != 0 {
                let value = field(record, aggregation.input ?? 0)
                if value.isEmpty { continue }
                entryScratch.removeAll(keepingCapacity: true)
                entryScratch.append(group.tags[i])
                entryScratch.append(contentsOf: value)
                try appendBuffered(partition, key)
            }
        }
    }

    /// Value field `index` of the record being added by `addGrouped`.
    @inline(__always)
    private func field(_ record: UnsafeRawBufferPointer, _ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: record[valueStarts[index]..<valueEnds[index]])
    }

    /// Buffers the entry (a = key, b = `entryScratch`), spilling first when the buffer is full.
    @inline(__always)
    private func appendBuffered(_ partition: Int, _ key: UnsafeRawBufferPointer) throws {
        try entryScratch.withUnsafeBytes { b in
            if !buffer.isEmpty && buffer.wouldPassLimit(adding: key.count + b.count) { try spill() }
            buffer.append(partition: partition, a: key, b: b)
            if buffer.footprint >= memoryBudget { try spill() }
        }
    }

    /// True when the shuffle counts whole records (`reduce count`): `countStableKey` may then be used for
    /// records without a TAB.
    var countsKeys: Bool { layout.entries == .countKeys }

    /// `add` of a record without a TAB when `countsKeys`, whose bytes stay valid until the next
    /// `flushStableKeys`: the key is queued for a batched lookup without being copied.
    @inline(__always)
    func countStableKey(_ key: UnsafeRawBufferPointer) throws {
        let hash = KeyHash.hash(key)
        table.prefetchSlot(hash)
        pendingKeys[pendingCount] = key
        pendingHashes[pendingCount] = hash
        pendingCount += 1
        if pendingCount == MapCollector.batch { try drainCounts() }
    }

    /// Counts the keys queued by `countStableKey` (before their bytes go away).
    func flushStableKeys() throws {
        try drainCounts()
    }

    /// Counts the pending keys: prefetch the key bytes of every long key's first slot, then look them
    /// all up (keys of at most 8 bytes compare in their slot).
    private func drainCounts() throws {
        let n = pendingCount
        pendingCount = 0
        for j in 0..<n where pendingKeys[j].count > 8 { table.prefetchKey(pendingHashes[j]) }
        for j in 0..<n {
            let key = pendingKeys[j]
            let hash = pendingHashes[j]
            if let handle = table.findOrInsert(key, Bytes.empty, hash: hash) {
                table.add(handle, 1)
            } else {
                try spill()
                guard let handle = table.findOrInsert(key, Bytes.empty, hash: hash) else {
                    throw EngineError.failed("combiner table refused a key")
                }
                table.add(handle, 1)
            }
        }
    }

    /// The combiner's entry for (a, b), spilling the table first when it is full.
    @inline(__always)
    private func combineIndex(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) throws -> CombineTable.Handle {
        if let index = table.findOrInsert(a, b) { return index }
        try spill()
        // An empty table always takes its first key.
        guard let index = table.findOrInsert(a, b) else { throw EngineError.failed("combiner table refused a key") }
        return index
    }

    /// Writes the map output to `path`; returns the size of every partition.
    func finish(into path: String) throws -> (sizes: [Int64], entries: Int64) {
        try drainCounts()
        if layout.entries == .countRecords {
            table.fold(try combineIndex(Bytes.empty, Bytes.empty), .count, PartialAggregate(count: recordCount))
        }
        if runs.isEmpty {
            let writer = try RunWriter(path: path, layout: layout, partitionCount: partitioner.partitionCount)
            try writeBuffered(to: writer)
            let sizes = try writer.finish()
            return (sizes, writer.entriesWritten)
        }
        if !buffer.isEmpty || !table.isEmpty { try spill() }
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

    private func spill() throws {
        try cancel?.check()
        let path = try store.temporaryPath("spill")
        runs.append(path)
        let writer = try RunWriter(path: path, layout: layout, partitionCount: partitioner.partitionCount)
        try writeBuffered(to: writer)
        _ = try writer.finish()
        spilledBytes += writer.bytesWritten
    }

    /// Sorts what is held in memory, writes it through `writer` and empties the buffers.
    private func writeBuffered(to writer: RunWriter) throws {
        if usesTable {
            try table.write(to: writer, aggregate: layout.foldAggregate)
            table.removeAll()
        } else {
            buffer.sort(layout: layout)
            try buffer.write(to: writer)
            buffer.removeAll()
        }
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

import MrshPlan

/// Writes entries given in (partition, shuffle order) into the map-output format, applying the
/// shuffle's combiner on the way (`ShuffleLayout.Combine`): the paper's combiner for spills, for the
/// final merge of a map task's runs, and (through the same rules) on the reduce side.
final class RunWriter {
    private var writer: BufferedWriter
    private let layout: ShuffleLayout
    private let partitionCount: Int
    private var ranges: [Range<Int64>] = []
    private var currentPartition = 0
    private var partitionStart: Int64 = 0
    private var keptInPartition = 0
    // The pending (not yet written) entry of `.fold` and `.dedup`.
    private var hasPending = false
    private var pendingA: [UInt8] = []
    private var pendingB: [UInt8] = []
    private var pendingPartial = PartialAggregate()
    private var partialScratch: [UInt8]
    /// `.grouped`: the tuple of the combinable aggregations, and the pending entry's partials when
    /// `pendingIsTuple`.
    private let tuple: PartialTuple?
    private let pendingTuple: UnsafeMutablePointer<PartialAggregate>
    private var pendingIsTuple = false
    /// `.limitPerA`: entries kept of the current a (`pendingA`, when `hasPending`).
    private var keptOfA = 0
    private(set) var entriesWritten: Int64 = 0

    init(path: String, layout: ShuffleLayout, partitionCount: Int, bufferSize: Int = 1 << 20) throws {
        self.writer = try BufferedWriter(creating: path, bufferSize: bufferSize)
        self.layout = layout
        self.partitionCount = partitionCount
        let tuple = layout.groupBy.map { GroupByShape($0).tuple }
        self.tuple = tuple
        let slots = max(1, tuple?.count ?? 0)
        pendingTuple = .allocate(capacity: slots)
        pendingTuple.initialize(repeating: PartialAggregate(), count: slots)
        partialScratch = [UInt8](repeating: 0, count: max(64, 1 + (tuple?.size ?? 0)))
    }

    deinit { pendingTuple.deallocate() }

    /// Adds an entry; `partition` never decreases between calls.
    @inline(__always)
    func add(partition: Int, a: UnsafeRawBufferPointer, b: UnsafeRawBufferPointer) throws {
        if partition != currentPartition { try advance(to: partition) }
        switch layout.combine {
        case .none:
            try write(a, b)
        case .limit(let n):
            if keptInPartition < n {
                keptInPartition += 1
                try write(a, b)
            }
        case .dedup(let includingB):
            if hasPending {
                let same = pendingA.withUnsafeBytes { Bytes.equal($0, a) }
                    && (!includingB || pendingB.withUnsafeBytes { Bytes.equal($0, b) })
                if same { return }
                try flushPending()
            }
            pendingA.removeAll(keepingCapacity: true)
            pendingA.append(contentsOf: a)
            pendingB.removeAll(keepingCapacity: true)
            pendingB.append(contentsOf: b)
            hasPending = true
        case .fold(let aggregate):
            let partial = PartialAggregate.decode(aggregate, b)
            if hasPending, pendingA.withUnsafeBytes({ Bytes.equal($0, a) }) {
                pendingPartial.merge(aggregate, partial)
                return
            }
            if hasPending { try flushPending() }
            pendingA.removeAll(keepingCapacity: true)
            pendingA.append(contentsOf: a)
            pendingPartial = partial
            hasPending = true
        case .limitPerA(let n):
            if hasPending, pendingA.withUnsafeBytes({ Bytes.equal($0, a) }) {
                if keptOfA >= n { return }
                keptOfA += 1
            } else {
                pendingA.removeAll(keepingCapacity: true)
                pendingA.append(contentsOf: a)
                hasPending = true
                keptOfA = 1
            }
            try write(a, b)
        case .grouped:
            try addGrouped(a, b)
        }
    }

    /// `.grouped`: tuples (tag 0) of equal a fold; entries of tags 1..<0x80 equal to the one before drop.
    @inline(__always)
    private func addGrouped(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) throws {
        let tag = b[0]
        if tag == 0, let tuple {
            let partials = UnsafeRawBufferPointer(rebasing: b[1...])
            if hasPending, pendingIsTuple, pendingA.withUnsafeBytes({ Bytes.equal($0, a) }) {
                tuple.merge(partials, into: pendingTuple)
                return
            }
            if hasPending { try flushPending() }
            pendingA.removeAll(keepingCapacity: true)
            pendingA.append(contentsOf: a)
            pendingTuple.update(repeating: PartialAggregate(), count: max(1, tuple.count))
            tuple.merge(partials, into: pendingTuple)
            pendingIsTuple = true
            hasPending = true
        } else if tag < 0x80 {
            if hasPending, !pendingIsTuple, pendingA.withUnsafeBytes({ Bytes.equal($0, a) }),
                pendingB.withUnsafeBytes({ Bytes.equal($0, b) })
            {
                return
            }
            if hasPending { try flushPending() }
            pendingA.removeAll(keepingCapacity: true)
            pendingA.append(contentsOf: a)
            pendingB.removeAll(keepingCapacity: true)
            pendingB.append(contentsOf: b)
            pendingIsTuple = false
            hasPending = true
        } else {
            if hasPending { try flushPending() }
            try write(a, b)
        }
    }

    /// Adds an entry whose a (and b, for `.dedup(includingB: true)`) differs from every other entry added,
    /// with b already the encoded partial of a `.fold`: written as it is, with nothing to combine (the
    /// combiner table's distinct keys).
    @inline(__always)
    func addDistinct(partition: Int, a: UnsafeRawBufferPointer, b: UnsafeRawBufferPointer) throws {
        if partition != currentPartition { try advance(to: partition) }
        switch layout.combine {
        case .none, .limit, .limitPerA: try add(partition: partition, a: a, b: b)
        case .dedup, .fold, .grouped:
            if hasPending { try flushPending() }
            try write(a, b)
        }
    }

    /// Ends the last partition, writes the index; returns the size of each partition.
    func finish() throws -> [Int64] {
        try advance(to: partitionCount)
        try MapOutputFormat.writeIndex(ranges, to: &writer)
        try writer.close()
        return ranges.map { Int64($0.count) }
    }

    var bytesWritten: Int64 { writer.bytesWritten }

    private func advance(to partition: Int) throws {
        precondition(partition > currentPartition, "entries must come in partition order")
        try flushPending()
        while currentPartition < partition {
            ranges.append(partitionStart..<writer.bytesWritten)
            partitionStart = writer.bytesWritten
            currentPartition += 1
        }
        keptInPartition = 0
    }

    private func flushPending() throws {
        guard hasPending else { return }
        hasPending = false
        if case .limitPerA = layout.combine { return }
        if pendingIsTuple, let tuple {
            pendingIsTuple = false
            try partialScratch.withUnsafeMutableBytes { scratch in
                // scratch has 1 + tuple.size >= 1 bytes, so baseAddress is non-nil.
                let base = scratch.baseAddress!
                base.storeBytes(of: 0, as: UInt8.self)
                tuple.encode(pendingTuple, into: base + 1)
                try pendingA.withUnsafeBytes { try write($0, UnsafeRawBufferPointer(rebasing: scratch[0..<(1 + tuple.size)])) }
            }
        } else if case .fold(let aggregate) = layout.combine {
            let size = PartialAggregate.encodedSize(aggregate)
            try partialScratch.withUnsafeMutableBytes { scratch in
                // scratch has 64 >= 41 bytes, so baseAddress is non-nil.
                pendingPartial.encode(aggregate, into: scratch.baseAddress!)
                try pendingA.withUnsafeBytes { try write($0, UnsafeRawBufferPointer(rebasing: scratch[0..<size])) }
            }
        } else {
            try pendingA.withUnsafeBytes { a in try pendingB.withUnsafeBytes { b in try write(a, b) } }
        }
    }

    @inline(__always)
    private func write(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) throws {
        try writer.writeEntry(a, b)
        entriesWritten += 1
    }
}

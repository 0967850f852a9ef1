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
    private var partialScratch = [UInt8](repeating: 0, count: 32)
    private(set) var entriesWritten: Int64 = 0

    init(path: String, layout: ShuffleLayout, partitionCount: Int, bufferSize: Int = 1 << 20) throws {
        self.writer = try BufferedWriter(creating: path, bufferSize: bufferSize)
        self.layout = layout
        self.partitionCount = partitionCount
    }

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
        }
    }

    /// Adds an entry whose a (and b, for `.dedup(includingB: true)`) differs from every other entry added,
    /// with b already the encoded partial of a `.fold`: written as it is, with nothing to combine (the
    /// combiner table's distinct keys).
    @inline(__always)
    func addDistinct(partition: Int, a: UnsafeRawBufferPointer, b: UnsafeRawBufferPointer) throws {
        if partition != currentPartition { try advance(to: partition) }
        switch layout.combine {
        case .none, .limit: try add(partition: partition, a: a, b: b)
        case .dedup, .fold:
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
        if case .fold(let aggregate) = layout.combine {
            let size = PartialAggregate.encodedSize(aggregate)
            try partialScratch.withUnsafeMutableBytes { scratch in
                // scratch has 32 >= 17 bytes, so baseAddress is non-nil.
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

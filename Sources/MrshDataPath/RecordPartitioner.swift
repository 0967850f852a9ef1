import MrshPlan

/// Chooses the partition of a map output record, from its shuffle kind's `PartitionKeyRule` and the job's
/// `Partitioner` (a fixed hash, or sampled range boundaries in the kind's sort order).
public struct RecordPartitioner: Sendable {
    package let keyRule: PartitionKeyRule
    /// The order range boundaries are compared in.
    private let rangeOrder: SortOrder
    public let partitioner: Partitioner
    public let partitionCount: Int

    public init(shuffle: Shuffle, partitioner: Partitioner) {
        let kind = shuffle.kind
        keyRule = kind.partitionKey
        if case .range(let order) = kind.partitioning { rangeOrder = order } else { rangeOrder = .byKey }
        self.partitioner = partitioner
        self.partitionCount = max(1, partitioner.partitionCount)
    }

    /// The bytes that choose the partition, or nil for "always partition 0".
    @inline(__always)
    public func partitionKey(of record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        switch keyRule {
        case .key: return Bytes.splitKey(record).key
        case .fields(let n): return Bytes.leadingFields(record, n)
        case .record: return record
        case .sortField(let order): return RecordOrdering.partitionKey(order, record)
        case .none: return nil
        }
    }

    @inline(__always)
    public func partition(of record: UnsafeRawBufferPointer) -> Int {
        guard partitionCount > 1, let key = partitionKey(of: record) else { return 0 }
        return partition(ofKey: key)
    }

    /// The partition of a partition key.
    public func partition(ofKey key: UnsafeRawBufferPointer) -> Int {
        switch partitioner {
        case .hash(let partitions):
            return partitions <= 1 ? 0 : Int(FNV1a.hash(key) % UInt64(partitions))
        case .range(let boundaries):
            let order = rangeOrder
            // First i with key < boundaries[i], else boundaries.count.
            var low = 0
            var high = boundaries.count
            while low < high {
                let mid = (low + high) / 2
                let less = boundaries[mid].withUnsafeBytes {
                    RecordOrdering.comparePartitionKeys(order, key, $0) < 0
                }
                if less { high = mid } else { low = mid + 1 }
            }
            return low
        }
    }
}

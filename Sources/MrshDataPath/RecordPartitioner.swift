import MrshPlan

/// Chooses the partition of a map output record, from the job's `Shuffle` and `Partitioner`.
///
/// The partition key is the record's key for `.aggregate`, the whole record for `.distinct`, the sorted
/// field for `.sort`, and a constant (partition 0) for `.count` and `.gather`.
public struct RecordPartitioner: Sendable {
    public let shuffle: Shuffle
    public let partitioner: Partitioner
    public let partitionCount: Int

    public init(shuffle: Shuffle, partitioner: Partitioner) {
        self.shuffle = shuffle
        self.partitioner = partitioner
        self.partitionCount = max(1, partitioner.partitionCount)
    }

    /// The bytes that choose the partition, or nil for "always partition 0".
    @inline(__always)
    public func partitionKey(of record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        switch shuffle {
        case .aggregate: return Bytes.splitKey(record).key
        case .distinct: return record
        case .sort(let order, _): return RecordOrdering.partitionKey(order, record)
        case .count, .gather: return nil
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
            let order: SortOrder
            if case .sort(let o, _) = shuffle { order = o } else { order = .byKey }
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

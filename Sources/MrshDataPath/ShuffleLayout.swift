import MrshPlan

/// How a job's shuffle lays records out as entries `(a, b)`, orders them and combines them.
///
/// - `.aggregate`: a = key; b = the binary `PartialAggregate` (count, sum, min, max, avg) or the raw value
///   (collect, distinct). Ordered by a (distinct: by a, then b).
/// - `.sort`, `.distinct`, `.gather`: a = the whole record, b empty. Ordered by the sort order, by bytes,
///   or not at all (input order).
/// - `.count`: a empty, b = the count (8 bytes), one entry per map task.
///
/// Every sort and merge is stable (ties keep input order, then map task order), so `collect` and
/// `gather` see records in input order.
public struct ShuffleLayout: Sendable {
    public enum Combine: Sendable, Equatable {
        /// Keep every entry.
        case none
        /// Fold entries with equal a into one `PartialAggregate`.
        case fold(Aggregate)
        /// Drop an entry equal (a, and b when `includingB`) to the one before.
        case dedup(includingB: Bool)
        /// Keep the first n entries of each partition.
        case limit(Int)
    }

    public let shuffle: Shuffle
    public let combine: Combine

    public init(_ shuffle: Shuffle) {
        self.shuffle = shuffle
        switch shuffle {
        case .aggregate(let aggregate):
            switch aggregate {
            case .collect: combine = .none
            case .distinct: combine = .dedup(includingB: true)
            default: combine = .fold(aggregate)
            }
        case .sort(_, let limit), .gather(let limit):
            combine = limit.map { .limit($0) } ?? .none
        case .distinct:
            combine = .dedup(includingB: false)
        case .count:
            combine = .fold(.count)
        }
    }

    /// The aggregate whose partials fill b, if any.
    public var foldAggregate: Aggregate? {
        if case .fold(let aggregate) = combine { return aggregate }
        return nil
    }

    /// Entry order. Returns <0, 0 (tie: keep the earlier), >0.
    @inline(__always)
    public func compare(
        _ a1: UnsafeRawBufferPointer, _ b1: UnsafeRawBufferPointer,
        _ a2: UnsafeRawBufferPointer, _ b2: UnsafeRawBufferPointer
    ) -> Int {
        switch shuffle {
        case .aggregate(let aggregate):
            let c = Bytes.compare(a1, a2)
            if c != 0 || aggregate != .distinct { return c }
            return Bytes.compare(b1, b2)
        case .sort(let order, _):
            return RecordOrdering.compareRecords(order, a1, a2)
        case .distinct:
            return Bytes.compare(a1, a2)
        case .count, .gather:
            return 0
        }
    }
}

import MrshPlan

/// A shuffle kind's rules, compiled once per task for the hot loops (map-side collection, sorting of
/// buffers, spills, merges): plain values they switch on, so no record calls back into the kind. The layout
/// holds no reference (not the kind itself): it is copied into comparison closures, and a copy must cost no
/// retain and release.
///
/// Every sort and merge is stable (ties keep input order, then map task order), so `collect` and
/// `gather` see records in input order.
package struct ShuffleLayout: Sendable {
    /// How entries whose ordering fields are equal combine.
    package enum Combine: Sendable, Equatable {
        /// Keep every entry.
        case none
        /// Fold entries with equal a into one `PartialAggregate`.
        case fold(Aggregate)
        /// Drop an entry equal (a, and b when `includingB`) to the one before.
        case dedup(includingB: Bool)
        /// Keep the first n entries of each partition.
        case limit(Int)
    }

    package let shuffle: Shuffle
    package let entries: EntryRule
    package let combine: Combine
    package let order: EntryOrder

    package init(_ shuffle: Shuffle) {
        self.shuffle = shuffle
        let kind = shuffle.kind
        entries = kind.entries
        combine = kind.combine
        order = kind.order
    }

    /// The aggregate whose partials fill b, if any.
    package var foldAggregate: Aggregate? {
        if case .fold(let aggregate) = combine { return aggregate }
        return nil
    }

    /// Entry order. Returns <0, 0 (tie: keep the earlier), >0.
    @inline(__always)
    package func compare(
        _ a1: UnsafeRawBufferPointer, _ b1: UnsafeRawBufferPointer,
        _ a2: UnsafeRawBufferPointer, _ b2: UnsafeRawBufferPointer
    ) -> Int {
        switch order {
        case .none:
            return 0
        case .bytesOfA:
            return Bytes.compare(a1, a2)
        case .bytesOfAThenB:
            let c = Bytes.compare(a1, a2)
            return c != 0 ? c : Bytes.compare(b1, b2)
        case .records(let sortOrder):
            return RecordOrdering.compareRecords(sortOrder, a1, a2)
        }
    }

    /// Which leading bytes of a the order compares first, as memcmp would (the radix sort's and the merge's
    /// 8-byte prefixes).
    package var prefixRule: ShuffleBuffer.PrefixRule {
        switch order {
        case .none: return .none
        case .bytesOfA, .bytesOfAThenB: return .wholeAscending
        case .records(let sortOrder):
            switch sortOrder.field {
            case .record: return sortOrder.descending ? .wholeDescending : .wholeAscending
            case .key: return sortOrder.descending ? .keyDescending : .keyAscending
            case .value: return .none
            }
        }
    }
}

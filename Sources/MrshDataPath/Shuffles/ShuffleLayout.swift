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
        /// Keep the first n entries of each distinct a (in each partition).
        case limitPerA(Int)
        /// `.grouped` entries: fold the partial tuples (tag 0) of equal a, drop an entry of tag 1..<0x80
        /// equal (a and b) to the one before, keep the others.
        case grouped
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
        case .bytesOfAThenTaggedB:
            let c = Bytes.compare(a1, a2)
            if c != 0 { return c }
            // Every `.grouped` entry's b holds its tag.
            let t1 = b1[0]
            let t2 = b2[0]
            if t1 != t2 { return Int(t1) - Int(t2) }
            return t1 == 0 || t1 >= 0x80 ? 0 : Bytes.compare(b1, b2)
        case .bytesOfAThenKeyOfB:
            let c = Bytes.compare(a1, a2)
            return c != 0 ? c : Bytes.compare(Bytes.splitKey(b1).key, Bytes.splitKey(b2).key)
        }
    }

    /// The `.groupBy` of the shuffle, if it is one.
    package var groupBy: GroupBy? {
        if case .groupBy(let groupBy) = shuffle { return groupBy }
        return nil
    }

    /// Which leading bytes of a the order compares first, as memcmp would (the radix sort's and the merge's
    /// 8-byte prefixes).
    package var prefixRule: ShuffleBuffer.PrefixRule {
        switch order {
        case .none: return .none
        case .bytesOfA, .bytesOfAThenB, .bytesOfAThenTaggedB, .bytesOfAThenKeyOfB: return .wholeAscending
        case .records(let sortOrder):
            switch sortOrder.field {
            case .record: return sortOrder.descending ? .wholeDescending : .wholeAscending
            case .key: return sortOrder.descending ? .keyDescending : .keyAscending
            case .value: return .none
            }
        }
    }
}

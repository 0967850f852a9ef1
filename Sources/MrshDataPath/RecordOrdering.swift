import MrshPlan

/// The orders of `SortOrder` on records and on partition keys.
///
/// `.value` compares numbers numerically and other values as bytes; so that the order is total (a merge
/// across parts needs that), every number sorts before every non-number.
public enum RecordOrdering {
    /// Compares two values: numbers first (numerically), then bytes.
    @inline(__always)
    public static func compareValues(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let na = NumericValue.parse(a)
        let nb = NumericValue.parse(b)
        switch (na, nb) {
        case (let x?, let y?):
            let c = NumericValue.compare(x, y)
            return c != 0 ? c : Bytes.compare(a, b)
        case (.some, nil): return -1
        case (nil, .some): return 1
        case (nil, nil): return Bytes.compare(a, b)
        }
    }

    /// Compares whole records in `order`. Ties of `.value` are broken by key ascending.
    @inline(__always)
    public static func compareRecords(_ order: SortOrder, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        switch order.field {
        case .record:
            let c = Bytes.compare(a, b)
            return order.descending ? -c : c
        case .key:
            let c = Bytes.compare(Bytes.splitKey(a).key, Bytes.splitKey(b).key)
            return order.descending ? -c : c
        case .value:
            let sa = Bytes.splitKey(a)
            let sb = Bytes.splitKey(b)
            let c = compareValues(sa.value, sb.value)
            if c != 0 { return order.descending ? -c : c }
            return Bytes.compare(sa.key, sb.key)
        }
    }

    /// The part of a record range partitioning looks at for `order`.
    @inline(__always)
    public static func partitionKey(_ order: SortOrder, _ record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        switch order.field {
        case .record: return record
        case .key: return Bytes.splitKey(record).key
        case .value: return Bytes.splitKey(record).value
        }
    }

    /// Compares partition keys in `order` (no tie-break).
    @inline(__always)
    public static func comparePartitionKeys(_ order: SortOrder, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let c = order.field == .value ? compareValues(a, b) : Bytes.compare(a, b)
        return order.descending ? -c : c
    }
}

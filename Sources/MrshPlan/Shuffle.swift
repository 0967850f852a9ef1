/// How a reduce combines the values of one key. Numeric aggregates read the value as a decimal number.
public enum Aggregate: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// Number of records per key (values ignored).
    case count
    /// Sum of the values, exact and independent of their order: integers (of up to 128 bits) add in 128
    /// bits; decimals add in a Double beside them and make the result decimal. A sum past Int128, or whose
    /// decimal part becomes infinite, fails the task naming the key.
    case sum
    case min
    case max
    /// Arithmetic mean, printed as a decimal.
    case avg
    /// All values of the key, in the order of the shuffle (sorted), joined by ",".
    case collect
    /// The sorted distinct values of the key, joined by ",".
    case distinct
}

/// Which part of a record orders it.
public enum SortField: String, Codable, Sendable, Equatable, Hashable {
    /// The key (first field), compared as bytes.
    case key
    /// The value, compared as numbers when both are numbers and as bytes otherwise; ties by key.
    case value
    /// The whole record, compared as bytes.
    case record
}

/// A total order of records.
public struct SortOrder: Codable, Sendable, Equatable, Hashable {
    public var field: SortField
    public var descending: Bool
    public init(field: SortField, descending: Bool = false) {
        self.field = field
        self.descending = descending
    }
    public static let byKey = SortOrder(field: .key)
}

/// The shuffle between the map and the reduce side of one job: what it means lives in its kind
/// (MrshDataPath's `Shuffles/`, one file per kind, found through `Shuffle.kind`).
public enum Shuffle: Codable, Sendable, Equatable, Hashable {
    /// Group by key with hash partitioning; reduce each key's values with the aggregate.
    /// Reduce output is `key TAB result`, each part sorted by key.
    case aggregate(Aggregate)
    /// Group by key with hash partitioning; each key's number of distinct values (`reduce ndistinct`).
    /// Reduce output is `key TAB count`, each part sorted by key.
    case ndistinct
    /// Total order across parts with range partitioning from a sample of the input.
    /// With a limit, every map and reduce task keeps only the first `limit` records.
    case sort(SortOrder, limit: Int?)
    /// Whole records deduplicated (hash partitioning on the whole record); each part sorted.
    case distinct
    /// The number of records through a single reducer; its one output record is the bare number.
    case count
    /// Input order kept: a single reducer concatenates the map outputs in map task order, keeping the first
    /// `limit` records (`take N` before any shuffle, followed by more stages). Map tasks keep `limit` each.
    case gather(limit: Int?)
    /// `reduce AGG, ... by KEY, ...`: map output records are `k1 TAB ... kK TAB v1 TAB ... vV`; hash
    /// partitioning on the K key fields; reduce output `k1 TAB ... kK TAB r1 TAB ... rA`, each part sorted by
    /// the bytes of the key fields (joined by TAB).
    case groupBy(GroupBy)
    /// `sort by E, ...`: records arrive as `KEY TAB record` (KEY from `.prependSortKey`); range partitioning
    /// on KEY from a sample, each part sorted by KEY bytes (stable), the reduce emits `record`. With a
    /// limit, every map and reduce task keeps only the first `limit` records.
    case orderBy(limit: Int?)
    /// `top N by S per G`: records arrive as `G TAB S TAB record` (`.prependGroupAndSortKey`); range
    /// partitioning on G, ordered by G then S (stable); the reduce emits the first `limit` records of each
    /// G, without G and S. Map tasks keep `limit` per G.
    case topPerGroup(limit: Int)
    /// `join`: records `KEY TAB ...` of both sides (`.prependJoinKey`), hash-partitioned on KEY and ordered by
    /// it, a key's right records before its left ones (the right sources come first, and ties keep source
    /// order); the reduce emits each left record followed by each right record's rest (see `Join`).
    case join(Join)
}

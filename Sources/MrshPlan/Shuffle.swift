/// How a reduce combines the values of one key. Numeric aggregates read the value as a decimal number.
public enum Aggregate: String, Codable, Sendable, Equatable, Hashable, CaseIterable {
    /// Number of records per key (values ignored).
    case count
    /// Sum of the values. Integers stay integers; any decimal value makes the result decimal.
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
    /// `reduce AGG, ... by KEY, ...` (see `GroupBy`): hash of the first `keyFields` fields; output the keys,
    /// then one result per aggregation.
    case groupBy(GroupBy)
    /// `sort by E, ...`: records arrive as `KEY TAB record` (`RecordOp.prependSortKey`), range-partitioned and
    /// sorted by KEY's bytes; the reduce emits `record`. With a limit, every task keeps its first `limit`.
    case orderBy(limit: Int?)
    /// `top N by S per G`: records arrive as `G TAB S TAB record`; range of G, ordered by G then S, at most
    /// `limit` records per G on both sides; the reduce emits `record`.
    case topPerGroup(limit: Int)

}

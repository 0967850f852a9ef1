import MrshPlan

/// What one kind of shuffle means, in one place: how map output records become intermediate entries
/// `(a, b)`, how entries are partitioned, ordered and combined, how a reduce task turns the merged entries of
/// its partition into records, how the parts of a final job merge when they are streamed, and what `explain`
/// prints. Each kind is a file in `Shuffles/`; `Shuffle.kind` (ShuffleCatalog.swift) maps the plan's
/// serializable `Shuffle` to its kind.
///
/// The engine calls a kind and switches on nothing: the coordinator asks it how to partition
/// (`partitioning`) and how to stream (`streamMerge`); the map side compiles its rules once per task into a
/// `ShuffleLayout`, whose primitives (`EntryRule`, `EntryOrder`, `PartitionKeyRule`, `Combine`) the hot
/// loops run without calling back into the kind per record; the reduce side hands the kind its merged
/// entries once per partition (`reduce`).
package protocol ShuffleKind: Sendable {
    /// How a map output record becomes an entry.
    var entries: EntryRule { get }
    /// How entries with equal ordering fields combine (map side, spills and the reduce-side pre-merge).
    var combine: ShuffleLayout.Combine { get }
    /// The order of entries within a partition.
    var order: EntryOrder { get }
    /// The bytes of a record that choose its partition.
    var partitionKey: PartitionKeyRule { get }
    /// How the coordinator makes the partitions.
    var partitioning: Partitioning { get }
    /// How the parts of the plan's last job merge when streamed to standard output.
    var streamMerge: OutputStreamer.Merge { get }
    /// The order the reduce output is in, per part (nil: none the planner can rely on); a `take` after the
    /// shuffle keeps its first records in that order.
    var outputOrder: SortOrder? { get }
    /// Consumes the merged entries of one partition, in `order`, and emits the part's records.
    func reduce(_ merger: EntryMerger, into part: PartReducer) throws

    /// `explain`: the map-side combiner (nil: none), the shuffle, the reduce.
    var combinerDescription: String? { get }
    func shuffleDescription(partitions: String) -> String
    var reduceDescription: String { get }
}

/// A kind that groups records by key: hash-partitioned by the key, each part sorted by key, streamed parts
/// merged by key. The `reduce` kinds are these; each says how entries are made, combined and reduced.
package protocol GroupByKeyShuffle: ShuffleKind {}

extension GroupByKeyShuffle {
    package var partitionKey: PartitionKeyRule { .key }
    package var partitioning: Partitioning { .hash }
    package var streamMerge: OutputStreamer.Merge { .byKey }
    package var outputOrder: SortOrder? { .byKey }
    package func shuffleDescription(partitions: String) -> String { "hash of key into \(partitions), sorted by key" }
}

/// How a map output record becomes an entry `(a, b)`.
package enum EntryRule: Sendable, Equatable {
    /// Only the number of records counts: one entry per map task, a empty, b the count.
    case countRecords
    /// a = the key; the records of each key are counted in the in-mapper combiner (b the partial count).
    case countKeys
    /// a = the key; b = the partial aggregate of the value, which must be a number (a bad record otherwise).
    case foldValues(Aggregate)
    /// a = the key, b = the value; with `dedup`, each distinct (key, value) pair once (in-mapper combiner).
    case keyValuePairs(dedup: Bool)
    /// a = the whole record, b empty; with `dedup`, each distinct record once (in-mapper combiner).
    case records(dedup: Bool)
    /// `reduce AGG, ... by KEY` (the layout's shuffle is `.groupBy`): a = the key fields; b = a tag byte
    /// and its payload: tag 0 the partial tuple of the combinable aggregations (one per record, folded in
    /// the in-mapper combiner when every aggregation is combinable), tag 1 + i a value of distinct or
    /// ndistinct aggregation i, tag 0x80 + i a value of collect aggregation i (see `GroupByShuffle`).
    case grouped
}

/// The order of entries within a partition (every sort and merge is stable: ties keep input order).
package enum EntryOrder: Sendable, Equatable {
    /// None: input order, then map task order.
    case none
    /// By the bytes of a.
    case bytesOfA
    /// By the bytes of a, then of b.
    case bytesOfAThenB
    /// a is a record, ordered by `SortOrder`.
    case records(SortOrder)
    /// By the bytes of a, then b's tag byte, then (tags 1..<0x80 only) the rest of b: `.grouped` entries,
    /// whose distinct values come sorted and whose collected values keep input order.
    case bytesOfAThenTaggedB
    /// By the bytes of a, then of b's first field (`topPerGroup`: a = G, b = `S TAB record`).
    case bytesOfAThenKeyOfB
}

/// The bytes of a map output record that choose its partition.
package enum PartitionKeyRule: Sendable, Equatable {
    /// None: every record goes to partition 0.
    case none
    /// The key (first field).
    case key
    /// The first n fields (with the TABs between them); `.fields(1)` is `.key`.
    case fields(Int)
    /// The whole record.
    case record
    /// The field a `SortOrder` sorts by.
    case sortField(SortOrder)
}

/// How the coordinator makes a shuffle's partitions.
package enum Partitioning: Sendable, Equatable {
    /// One reduce task.
    case single
    /// A fixed hash of the partition key into the job's reducer count.
    case hash
    /// Ranges of the partition key in this order, from boundaries sampled before the job runs: the parts
    /// concatenated are a total order.
    case range(SortOrder)
}

import MrshPlan

/// Input order kept: a `take N` followed by more stages. A single reducer concatenates the map outputs in
/// map task order, keeping the first `limit` records; map tasks keep `limit` each.
package struct GatherShuffle: ShuffleKind {
    package let limit: Int?

    package var entries: EntryRule { .records(dedup: false) }
    package var combine: ShuffleLayout.Combine { limit.map { .limit($0) } ?? .none }
    package var order: EntryOrder { .none }
    package var partitionKey: PartitionKeyRule { .none }
    package var partitioning: Partitioning { .single }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    package var outputOrder: SortOrder? { nil }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        try part.emitRecords(merger, limit: limit)
    }

    package var combinerDescription: String? { nil }
    package func shuffleDescription(partitions: String) -> String {
        "in input order into 1 partition" + (limit.map { ", first \($0)" } ?? "")
    }
    package var reduceDescription: String { "concatenate" + (limit.map { ", first \($0)" } ?? "") }
}

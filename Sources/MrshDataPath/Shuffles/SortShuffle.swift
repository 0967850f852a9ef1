import MrshPlan

/// `sort [by key|value|record] [desc]`: a total order across all parts. The coordinator samples the input
/// for range boundaries of the sorted field, so part i holds only records ordered before part i+1's; each
/// part is sorted. With a limit (a `take` pushed down), every map and reduce task keeps only its first
/// `limit` records.
package struct SortShuffle: ShuffleKind {
    package let sortOrder: SortOrder
    package let limit: Int?

    package init(order: SortOrder, limit: Int?) {
        sortOrder = order
        self.limit = limit
    }

    package var entries: EntryRule { .records(dedup: false) }
    package var combine: ShuffleLayout.Combine { limit.map { .limit($0) } ?? .none }
    package var order: EntryOrder { .records(sortOrder) }
    package var partitionKey: PartitionKeyRule { .sortField(sortOrder) }
    package var partitioning: Partitioning { .range(sortOrder) }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    package var outputOrder: SortOrder? { sortOrder }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        try part.emitRecords(merger, limit: limit)
    }

    package var combinerDescription: String? { nil }
    package func shuffleDescription(partitions: String) -> String {
        var text = "range of \(sortOrder.field.rawValue) (sampled) into \(partitions), sorted \(SortShuffle.describe(sortOrder))"
        if let limit { text += ", first \(limit) per task" }
        return text
    }
    package var reduceDescription: String { "merge" + (limit.map { ", first \($0)" } ?? "") }

    static func describe(_ order: SortOrder) -> String {
        "by \(order.field.rawValue) \(order.descending ? "desc" : "asc")"
    }
}

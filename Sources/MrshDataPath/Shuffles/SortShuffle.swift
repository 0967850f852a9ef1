import MrshPlan

/// `sort [by key|value|record] [desc]`: a total order across all parts. The coordinator samples the input
/// for range boundaries of the sorted field, so part i holds only records ordered before part i+1's; each
/// part is sorted. With a limit (a `take` pushed down), every map and reduce task keeps only its first
/// `limit` records.
///
/// `sort by E, ...` (`Shuffle.orderBy`) is this kind with `dropsKey`: its records arrive as `KEY TAB record`
/// (KEY the `.prependSortKey` encoding, compared as bytes), ordered by key and emitted without it.
package struct SortShuffle: ShuffleKind {
    package let sortOrder: SortOrder
    package let limit: Int?
    /// The reduce emits each record without its first field (the sort key `.prependSortKey` made).
    package let dropsKey: Bool

    package init(order: SortOrder, limit: Int?, dropsKey: Bool = false) {
        sortOrder = order
        self.limit = limit
        self.dropsKey = dropsKey
    }

    package var entries: EntryRule { .records(dedup: false) }
    package var combine: ShuffleLayout.Combine { limit.map { .limit($0) } ?? .none }
    package var order: EntryOrder { .records(sortOrder) }
    package var partitionKey: PartitionKeyRule { .sortField(sortOrder) }
    package var partitioning: Partitioning { .range(sortOrder) }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    /// Without its key, the output is in no `SortOrder` of its own fields (only in part order).
    package var outputOrder: SortOrder? { dropsKey ? nil : sortOrder }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        try part.emitRecords(merger, limit: limit, dropKey: dropsKey)
    }

    package var combinerDescription: String? { nil }
    package func shuffleDescription(partitions: String) -> String {
        var text = dropsKey
            ? "range of sort key (sampled) into \(partitions), sorted by sort key, stable"
            : "range of \(sortOrder.field.rawValue) (sampled) into \(partitions), sorted \(SortShuffle.describe(sortOrder))"
        if let limit { text += ", first \(limit) per task" }
        return text
    }
    package var reduceDescription: String {
        (dropsKey ? "merge, drop sort key" : "merge") + (limit.map { ", first \($0)" } ?? "")
    }

    static func describe(_ order: SortOrder) -> String {
        "by \(order.field.rawValue) \(order.descending ? "desc" : "asc")"
    }
}

import MrshPlan

/// `count`: the number of records. Each map task sends one partial count to the single reducer, which
/// writes the bare total.
package struct CountShuffle: ShuffleKind {
    package var entries: EntryRule { .countRecords }
    package var combine: ShuffleLayout.Combine { .fold(.count) }
    package var order: EntryOrder { .none }
    package var partitionKey: PartitionKeyRule { .none }
    package var partitioning: Partitioning { .single }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    package var outputOrder: SortOrder? { nil }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        var total: Int64 = 0
        while let top = merger.top {
            total &+= PartialAggregate.decode(.count, top.b).count
            try part.advance(merger)
        }
        part.line.removeAll(keepingCapacity: true)
        PartReducer.appendInteger(total, to: &part.line)
        try part.emitLine()
    }

    package var combinerDescription: String? { "count (in map tasks)" }
    package func shuffleDescription(partitions: String) -> String { "into 1 partition" }
    package var reduceDescription: String { "count" }
}

import MrshPlan

/// `distinct`: each distinct record once. Partitioned by a hash of the whole record; map tasks drop
/// duplicates in the in-mapper combiner; each part is sorted by record and streamed parts merge by record.
package struct DistinctShuffle: ShuffleKind {
    package var entries: EntryRule { .records(dedup: true) }
    package var combine: ShuffleLayout.Combine { .dedup(includingB: false) }
    package var order: EntryOrder { .bytesOfA }
    package var partitionKey: PartitionKeyRule { .record }
    package var partitioning: Partitioning { .hash }
    package var streamMerge: OutputStreamer.Merge { .byRecord }
    package var outputOrder: SortOrder? { SortOrder(field: .record) }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        var first = true
        while let top = merger.top {
            if first || !part.isInGroup(top.a) {
                try part.emit(top.a)
                part.startGroup(top.a)
                first = false
            }
            try part.advance(merger)
        }
    }

    package var combinerDescription: String? { "distinct (in map tasks)" }
    package func shuffleDescription(partitions: String) -> String { "hash of record into \(partitions), sorted by record" }
    package var reduceDescription: String { "distinct" }
}

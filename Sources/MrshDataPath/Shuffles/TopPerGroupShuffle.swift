import MrshPlan

/// `top N by S per G`: records arrive as `G TAB S TAB record` (G and S `.prependSortKey` encodings, both
/// free of TABs), become entries a = G, b = `S TAB record`, range-partitioned on G from the coordinator's
/// sample (every record of a group in one part; the parts concatenated are in G order) and ordered by G,
/// then S, stably. Map tasks keep the first `limit` entries of each G whenever they write a sorted run or
/// merge runs (memory stays the shuffle buffer's); the reduce emits the first `limit` records of each G
/// without G and S.
package struct TopPerGroupShuffle: ShuffleKind {
    package let limit: Int

    package var entries: EntryRule { .keyValuePairs(dedup: false) }
    package var combine: ShuffleLayout.Combine { .limitPerA(limit) }
    package var order: EntryOrder { .bytesOfAThenKeyOfB }
    package var partitionKey: PartitionKeyRule { .sortField(.byKey) }
    package var partitioning: Partitioning { .range(.byKey) }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    package var outputOrder: SortOrder? { nil }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        while let top = merger.top {
            part.startGroup(top.a)
            var left = limit
            while let entry = merger.top, part.isInGroup(entry.a) {
                if left > 0 {
                    try part.emit(Bytes.splitKey(entry.b).value)
                    left -= 1
                }
                try part.advance(merger)
            }
        }
    }

    package var combinerDescription: String? { "first \(limit) per group (in map tasks)" }
    package func shuffleDescription(partitions: String) -> String {
        "range of group (sampled) into \(partitions), sorted by group and rank, stable"
    }
    package var reduceDescription: String { "first \(limit) per group" }
}

import MrshPlan

/// `join` with the shuffle strategy (see `Join`): entries (a = KEY, b = the rest after KEY's TAB), hash of
/// KEY into the partitions, ordered by KEY, stable, so a key's right records (the job's first sources) come
/// before its left ones.
package struct JoinShuffle: ShuffleKind {
    package let join: Join

    package init(join: Join) { self.join = join }

    package var entries: EntryRule { .keyValuePairs(dedup: false) }
    package var combine: ShuffleLayout.Combine { .none }
    package var order: EntryOrder { .bytesOfA }
    package var partitionKey: PartitionKeyRule { .key }
    package var partitioning: Partitioning { .hash }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    package var outputOrder: SortOrder? { nil }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        throw EngineError.failed("join is not implemented yet")
    }

    package var combinerDescription: String? { nil }
    package func shuffleDescription(partitions: String) -> String {
        "hash of join key into \(partitions), sorted by join key, right side first"
    }
    package var reduceDescription: String { join.kind == .left ? "left join" : "join" }
}

import MrshPlan

/// Stands in for the shuffle kinds of `reduce ... by`, `sort by E` and `top N per` until their files land;
/// a job using one fails with a clear message.
package struct PendingShuffle: GroupByKeyShuffle {
    package var entries: EntryRule { .keyValuePairs(dedup: false) }
    package var combine: ShuffleLayout.Combine { .none }
    package var order: EntryOrder { .bytesOfA }
    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        throw EngineError.failed("this shuffle is not built yet")
    }
    package var combinerDescription: String? { nil }
    package var reduceDescription: String { "reduce (not built yet)" }
}

import MrshPlan

/// `reduce ndistinct`: the number of distinct values of each key (the N of the classic inverted index:
/// `read "docs/*" | map words | tag file | reduce ndistinct` gives `word TAB files`). Map tasks keep each distinct
/// (key, value) pair once; entries are ordered by key, then value, so a reduce task counts the changes of
/// value within a key without holding the values. Output `key TAB N`, each part sorted by key.
package struct DistinctValueCountShuffle: GroupByKeyShuffle {
    package var entries: EntryRule { .keyValuePairs(dedup: true) }
    package var combine: ShuffleLayout.Combine { .dedup(includingB: true) }
    package var order: EntryOrder { .bytesOfAThenB }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        while let top = merger.top {
            part.startGroup(top.a)
            part.previousValue.removeAll(keepingCapacity: true)
            part.previousValue.append(contentsOf: top.b)
            var count: Int64 = 1
            try part.advance(merger)
            while let entry = merger.top, part.isInGroup(entry.a) {
                if !part.previousValue.withUnsafeBytes({ Bytes.equal($0, entry.b) }) {
                    count += 1
                    part.previousValue.removeAll(keepingCapacity: true)
                    part.previousValue.append(contentsOf: entry.b)
                }
                try part.advance(merger)
            }
            PartReducer.appendInteger(count, to: &part.line)
            try part.emitLine()
        }
    }

    package var combinerDescription: String? { "distinct (key, value) pairs (in map tasks)" }
    package func shuffleDescription(partitions: String) -> String {
        "hash of key into \(partitions), sorted by key and value"
    }
    package var reduceDescription: String { "reduce ndistinct" }
}

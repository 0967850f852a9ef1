import MrshPlan

/// `reduce collect` and `reduce distinct`: the values of each key joined by `,` — all of them in input
/// order (`collect`, no combiner: every value travels), or each distinct value once in byte order
/// (`distinct`: map tasks drop duplicate (key, value) pairs). Output `key TAB v1,v2,...`, parts sorted by key.
package struct ValueListShuffle: GroupByKeyShuffle {
    /// `reduce distinct` rather than `reduce collect`.
    package let distinct: Bool

    package var entries: EntryRule { .keyValuePairs(dedup: distinct) }
    package var combine: ShuffleLayout.Combine { distinct ? .dedup(includingB: true) : .none }
    package var order: EntryOrder { distinct ? .bytesOfAThenB : .bytesOfA }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        while let top = merger.top {
            part.startGroup(top.a)
            var firstValue = true
            part.previousValue.removeAll(keepingCapacity: true)
            while let entry = merger.top, part.isInGroup(entry.a) {
                let duplicate = distinct && !firstValue && part.previousValue.withUnsafeBytes { Bytes.equal($0, entry.b) }
                if !duplicate {
                    if !firstValue { part.line.append(0x2C) }
                    part.line.append(contentsOf: entry.b)
                    if distinct {
                        part.previousValue.removeAll(keepingCapacity: true)
                        part.previousValue.append(contentsOf: entry.b)
                    }
                    firstValue = false
                }
                try part.advance(merger)
            }
            try part.emitLine()
        }
    }

    package var combinerDescription: String? { distinct ? "distinct (partial, in map tasks)" : nil }
    package var reduceDescription: String { distinct ? "reduce distinct" : "reduce collect" }
}

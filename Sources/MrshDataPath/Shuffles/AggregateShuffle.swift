import MrshPlan

/// `reduce count|sum|min|max|avg`: the values of each key folded into one number. Map tasks fold partial
/// aggregates in the in-mapper combiner (the paper's combiner); reduce tasks merge the partials of a key
/// and write `key TAB result`, each part sorted by key.
package struct AggregateShuffle: GroupByKeyShuffle {
    package let aggregate: Aggregate

    package var entries: EntryRule { aggregate == .count ? .countKeys : .foldValues(aggregate) }
    package var combine: ShuffleLayout.Combine { .fold(aggregate) }
    package var order: EntryOrder { .bytesOfA }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        while let top = merger.top {
            part.startGroup(top.a)
            var partial = PartialAggregate.decode(aggregate, top.b)
            try part.advance(merger)
            while let entry = merger.top, part.isInGroup(entry.a) {
                partial.merge(aggregate, PartialAggregate.decode(aggregate, entry.b))
                try part.advance(merger)
            }
            if aggregate == .count {
                PartReducer.appendInteger(partial.count, to: &part.line)
            } else {
                try part.check(partial, aggregate)
                partial.appendResult(aggregate, to: &part.line)
            }
            try part.emitLine()
        }
    }

    package var combinerDescription: String? { "\(aggregate.rawValue) (partial, in map tasks)" }
    package var reduceDescription: String { "reduce \(aggregate.rawValue)" }
}

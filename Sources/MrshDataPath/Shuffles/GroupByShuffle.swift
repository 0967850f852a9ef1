import MrshPlan

/// `reduce AGG, ... by KEY, ...`: map output records are `k1 TAB ... kK TAB v1 TAB ... vV`; aggregation i
/// reads value field `input` (count none). Hash-partitioned by the bytes of the K key fields (joined by
/// TAB), each part sorted by them, streamed parts merged by them; the reduce writes
/// `k1 TAB ... kK TAB r1 TAB ... rA`.
///
/// Entries (`EntryRule.grouped`): a = the key fields; b = a tag byte and its payload. Every record makes one
/// tag-0 entry holding the partials of the combinable aggregations (count, sum, min, max, avg) as one
/// fixed-size `PartialTuple` (empty when there are none: it still says the group exists). When every
/// aggregation is combinable, map tasks fold the tuples in the in-mapper combiner (`CombineTable`), and
/// spills and merges fold them again (`RunWriter`). Otherwise records are buffered: each non-empty value of a
/// distinct or ndistinct aggregation i is an entry of tag 1 + i, ordered by value (duplicates dropped when
/// a run is written), and of a collect aggregation i an entry of tag 0x80 + i, kept in input order (as
/// `reduce collect` keeps values). A reduce task so streams each group's values: memory is one group's
/// result line, however large the group.
///
/// Values: an empty value is skipped (count counts records); a value sum, min, max or avg cannot read as a
/// number is a bad record. min, max, sum and avg of a group without values print an empty field; sums are
/// exact (`PartialAggregate`).
package struct GroupByShuffle: ShuffleKind {
    package let groupBy: GroupBy

    package var entries: EntryRule { .grouped }
    package var combine: ShuffleLayout.Combine { .grouped }
    package var order: EntryOrder { .bytesOfAThenTaggedB }
    package var partitionKey: PartitionKeyRule { groupBy.keyFields == 1 ? .key : .fields(groupBy.keyFields) }
    package var partitioning: Partitioning { .hash }
    package var streamMerge: OutputStreamer.Merge { groupBy.keyFields == 1 ? .byKey : .byFields(groupBy.keyFields) }
    package var outputOrder: SortOrder? { groupBy.keyFields == 1 ? .byKey : nil }

    /// Aggregations per group at most (tags are one byte).
    package static let aggregationLimit = 127

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        let shape = GroupByShape(groupBy)
        let tuple = shape.tuple
        let partials = UnsafeMutablePointer<PartialAggregate>.allocate(capacity: max(1, tuple.count))
        partials.initialize(repeating: PartialAggregate(), count: max(1, tuple.count))
        defer { partials.deallocate() }
        let aggregations = groupBy.aggregations
        var texts = [[UInt8]](repeating: [], count: aggregations.count)
        var counts = [Int64](repeating: 0, count: aggregations.count)
        while let top = merger.top {
            part.startGroup(top.a)
            partials.update(repeating: PartialAggregate(), count: tuple.count)
            for i in shape.listed { texts[i].removeAll(keepingCapacity: true) }
            for i in shape.counted { counts[i] = 0 }
            var previousTag: UInt8 = 0
            while let entry = merger.top, part.isInGroup(entry.a) {
                let b = entry.b
                let tag = b[0]
                let value = UnsafeRawBufferPointer(rebasing: b[1...])
                if tag == 0 {
                    tuple.merge(value, into: partials)
                } else if tag >= 0x80 {
                    let i = Int(tag - 0x80)
                    if !texts[i].isEmpty { texts[i].append(0x2C) }
                    texts[i].append(contentsOf: value)
                } else {
                    let i = Int(tag - 1)
                    let repeated = tag == previousTag && part.previousValue.withUnsafeBytes { Bytes.equal($0, value) }
                    if !repeated {
                        previousTag = tag
                        part.previousValue.removeAll(keepingCapacity: true)
                        part.previousValue.append(contentsOf: value)
                        if aggregations[i].function == .ndistinct {
                            counts[i] += 1
                        } else {
                            if !texts[i].isEmpty { texts[i].append(0x2C) }
                            texts[i].append(contentsOf: value)
                        }
                    }
                }
                try part.advance(merger)
            }
            // `startGroup` wrote `key TAB`: no TAB before the first result without keys, none after the
            // keys without results.
            if aggregations.isEmpty || groupBy.keyFields == 0 { part.line.removeLast() }
            for (i, aggregation) in aggregations.enumerated() {
                if i > 0 { part.line.append(0x09) }
                switch aggregation.function {
                case .count, .sum, .min, .max, .avg:
                    let j = shape.slot[i]
                    try part.check(partials[j], tuple.aggregates[j])
                    partials[j].appendResult(tuple.aggregates[j], to: &part.line)
                case .collect, .distinct:
                    part.line.append(contentsOf: texts[i])
                case .ndistinct:
                    PartReducer.appendInteger(counts[i], to: &part.line)
                }
            }
            try part.emitLine()
        }
    }

    /// `$N` of aggregation `a`'s input in the map output record (key fields first).
    private func describe(_ a: Aggregation) -> String {
        a.input.map { "\(a.function.rawValue) $\(groupBy.keyFields + 1 + $0)" } ?? a.function.rawValue
    }

    private var keyDescription: String {
        switch groupBy.keyFields {
        case 0: return "no key"
        case 1: return "key"
        default: return "key fields 1-\(groupBy.keyFields)"
        }
    }

    package var combinerDescription: String? {
        let combinable = groupBy.aggregations.filter { $0.function.isCombinable }.map(describe)
        let deduplicated = groupBy.aggregations.filter { $0.function == .distinct || $0.function == .ndistinct }.map(describe)
        if groupBy.isCombinable { return combinable.joined(separator: ", ") + " (partial, in map tasks)" }
        var parts: [String] = []
        if !combinable.isEmpty { parts.append(combinable.joined(separator: ", ") + " (partial)") }
        if !deduplicated.isEmpty { parts.append(deduplicated.joined(separator: ", ") + " (distinct values)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ") + " in map task spills"
    }
    package func shuffleDescription(partitions: String) -> String {
        "hash of \(keyDescription) into \(partitions), sorted by \(keyDescription)"
    }
    package var reduceDescription: String {
        let by = (0..<groupBy.keyFields).map { " $\($0 + 1)" }.joined(separator: ",")
        return "reduce " + groupBy.aggregations.map(describe).joined(separator: ", ") + (by.isEmpty ? "" : " by" + by)
    }
}

/// A `GroupBy` compiled for the data path: the partial tuple of its combinable aggregations and where each
/// aggregation's partial or values go.
package struct GroupByShape: Sendable {
    package let groupBy: GroupBy
    /// The combinable aggregations' partials, in aggregation order.
    package let tuple: PartialTuple
    /// For each aggregation, its index in `tuple` (combinable ones; -1 for the others).
    package let slot: [Int]
    /// For each aggregation, its entry tag: 0 for combinable ones, 1 + i (distinct, ndistinct), 0x80 + i (collect).
    package let tags: [UInt8]
    /// Aggregations whose results are value lists (collect, distinct) and counts of values (ndistinct).
    package let listed: [Int]
    package let counted: [Int]
    /// How many value fields the aggregations read (the largest input + 1).
    package let valueFields: Int

    package init(_ groupBy: GroupBy) {
        self.groupBy = groupBy
        var aggregates: [Aggregate] = []
        var slot: [Int] = []
        var tags: [UInt8] = []
        var listed: [Int] = []
        var counted: [Int] = []
        for (i, aggregation) in groupBy.aggregations.enumerated() {
            let tagIndex = UInt8(truncatingIfNeeded: min(i, GroupByShuffle.aggregationLimit - 1))
            switch aggregation.function {
            case .count: slot.append(aggregates.count); aggregates.append(.count); tags.append(0)
            case .sum: slot.append(aggregates.count); aggregates.append(.sum); tags.append(0)
            case .min: slot.append(aggregates.count); aggregates.append(.min); tags.append(0)
            case .max: slot.append(aggregates.count); aggregates.append(.max); tags.append(0)
            case .avg: slot.append(aggregates.count); aggregates.append(.avg); tags.append(0)
            case .collect: slot.append(-1); tags.append(0x80 + tagIndex); listed.append(i)
            case .distinct: slot.append(-1); tags.append(1 + tagIndex); listed.append(i)
            case .ndistinct: slot.append(-1); tags.append(1 + tagIndex); counted.append(i)
            }
        }
        tuple = PartialTuple(aggregates)
        self.slot = slot
        self.tags = tags
        self.listed = listed
        self.counted = counted
        valueFields = (groupBy.aggregations.compactMap(\.input).max() ?? -1) + 1
    }
}

import MrshPlan

/// The one place that maps the plan's serializable `Shuffle` to the kind that gives it its meaning. A new
/// shuffle kind adds its case to `Shuffle` (MrshPlan), its file beside this one and its line here.
extension Shuffle {
    package var kind: any ShuffleKind {
        switch self {
        case .aggregate(let aggregate):
            switch aggregate {
            case .count, .sum, .min, .max, .avg: return AggregateShuffle(aggregate: aggregate)
            case .collect, .distinct: return ValueListShuffle(distinct: aggregate == .distinct)
            }
        case .ndistinct: return DistinctValueCountShuffle()
        case .sort(let order, let limit): return SortShuffle(order: order, limit: limit)
        case .distinct: return DistinctShuffle()
        case .count: return CountShuffle()
        case .gather(let limit): return GatherShuffle(limit: limit)
        case .groupBy(let groupBy): return GroupByShuffle(groupBy: groupBy)
        case .orderBy(let limit): return SortShuffle(order: .byKey, limit: limit, dropsKey: true)
        case .topPerGroup(let limit): return TopPerGroupShuffle(limit: limit)
        case .join(let join): return JoinShuffle(join: join)
        }
    }
}

/// `join [left] NAME on L [= R] [using shuffle|broadcast]`: the records flowing in (the left side) with the
/// records of the binding NAME (the right side), where L's text equals R's.
///
/// The planner makes one job whose first `rightSources` sources are the right side and whose other sources
/// are the left side, every source's map operators ending with `.prependJoinKey`, and whose shuffle is
/// `.join` (the shuffle strategy). The coordinator may turn such a job into its broadcast form
/// (`JobSpec.broadcastJoinForm`) once it knows the right side's size: a map-only job over the left sources
/// whose map tasks load the right side into memory (`JobSpec.sideInputs`) and look every left record up
/// (`.joinLookup`). Both forms give the same records; their order is each form's own (the shuffle form's is
/// by key within a part, the broadcast form's the left side's input order).
///
/// Keys: the bytes of the expression's text, escaped (`JoinKey`) so that no key holds a TAB, a line break or
/// a byte below 0x20. An empty key (an empty or missing field) matches nothing, as SQL's NULL: an inner join
/// drops such records, a left join keeps its left records unmatched.
public struct Join: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable {
        /// Every matching (left, right) pair.
        case inner
        /// Every matching pair, and every left record without a match with the right fields empty.
        case left
    }

    /// What the script asked for with `using` (`.auto` without it).
    public enum Strategy: String, Codable, Sendable, Hashable {
        /// Broadcast when the right side is at most `JobSettings.broadcastLimit` bytes, shuffle otherwise.
        case auto
        case shuffle
        case broadcast
    }

    public var kind: Kind
    public var strategy: Strategy
    /// The job's first `rightSources` sources are the right side; the others the left side.
    public var rightSources: Int
    /// How many empty fields an unmatched left record of a left join gets: the right side's known fields
    /// other than its join field.
    public var rightFieldCount: Int
    /// Keys the coordinator found to hold a large share of one side in a sample, spread over several
    /// reducers (empty as planned; see `JoinSalt`).
    public var hotKeys: [HotJoinKey]

    public init(kind: Kind, strategy: Strategy = .auto, rightSources: Int, rightFieldCount: Int, hotKeys: [HotJoinKey] = []) {
        self.kind = kind
        self.strategy = strategy
        self.rightSources = rightSources
        self.rightFieldCount = rightFieldCount
        self.hotKeys = hotKeys
    }
}

/// A join key too frequent for one reducer: the records of the side where it is hot are spread over
/// `fanout` salted keys (by a hash of the record's bytes), and the other side's records of that key are
/// copied to each of them.
public struct HotJoinKey: Codable, Sendable, Hashable {
    /// The escaped key (`JoinKey` encoding), without salt.
    public var key: [UInt8]
    public var fanout: Int
    /// True when the key is hot on the right side (right records spread, left records copied).
    public var hotOnRight: Bool
    public init(key: [UInt8], fanout: Int, hotOnRight: Bool) {
        self.key = key
        self.fanout = fanout
        self.hotOnRight = hotOnRight
    }
}

/// Which side of a join a `.prependJoinKey` runs on, and what it does there.
public enum JoinSide: Codable, Sendable, Hashable {
    /// `KEY TAB record`; a record whose key is empty keeps it empty (a left join keeps it unmatched, an inner
    /// join drops it).
    case left
    /// `KEY TAB rest`, rest the record without field `removingField` (1-based; nil: the whole record), each
    /// remaining field preceded by a TAB, so that a join's output is the left record followed by `rest`
    /// (nothing when no field remains). A record whose key is empty is dropped: it matches nothing.
    case right(removingField: Int?)
}

extension JobSpec {
    /// The join of a `.join` job, if it is one.
    public var join: Join? {
        if case .join(let join)? = shuffle { return join }
        return nil
    }

    /// The broadcast form of a `.join` job (nil for any other job): a map-only job over the left sources
    /// whose map tasks load the right sources (`sideInputs`) and look each left record up; the job's reduce
    /// operators follow the lookup on the map side.
    public func broadcastJoinForm() -> JobSpec? {
        guard let join else { return nil }
        var form = self
        form.sideInputs = Array(sources[..<join.rightSources])
        form.sources = sources[join.rightSources...].map { source in
            var source = source
            var ops = source.mapOps
            // The last left key op (the planner puts it last; `explain analyze` may add probes after it).
            if let index = ops.lastIndex(where: { if case .prependJoinKey(_, .left, _) = $0 { return true } else { return false } }),
                case .prependJoinKey(let key, .left, _) = ops[index]
            {
                ops[index] = .joinLookup(JoinLookup(key: key, kind: join.kind, rightFieldCount: join.rightFieldCount))
            }
            source.mapOps = ops + reduceOps
            return source
        }
        form.shuffle = nil
        form.reduceOps = []
        form.reducers = nil
        form.sources[0].fieldNames = reduceFieldNames
        return form
    }
}

/// `.joinLookup`: a broadcast join's probe of the right side (side input 0, loaded by the map task).
public struct JoinLookup: Codable, Sendable, Hashable {
    /// The left side's key expression.
    public var key: FieldExpression
    public var kind: Join.Kind
    public var rightFieldCount: Int
    /// The side input (`JobSpec.sideInputs`) holding the right side.
    public var side: Int
    public init(key: FieldExpression, kind: Join.Kind, rightFieldCount: Int, side: Int = 0) {
        self.key = key
        self.kind = kind
        self.rightFieldCount = rightFieldCount
        self.side = side
    }
}

/// Salting of hot keys by `.prependJoinKey` (see `HotJoinKey`): a salted key is the escaped key, byte 0x01,
/// and the salt's decimal digits (no escaped key holds 0x01).
public struct JoinSalt: Codable, Sendable, Hashable {
    public var hotKeys: [HotJoinKey]
    public init(hotKeys: [HotJoinKey]) { self.hotKeys = hotKeys }
}

extension Join {
    /// Whether a join whose right side measures `rightBytes` (input files' sizes, or an earlier job's parts)
    /// runs as a broadcast join, and why, in words for `explain` and `--verbose`; the coordinator and
    /// `explain` both decide here. `rightBytes` nil: not known yet (the right side is computed by the plan).
    public func choice(rightBytes: Int64?, limit: Int64) -> (broadcast: Bool?, reason: String) {
        switch strategy {
        case .broadcast: return (true, "broadcast (using broadcast)")
        case .shuffle: return (false, "shuffle (using shuffle)")
        case .auto:
            let limitText = Join.bytesText(limit)
            guard let rightBytes else {
                return (nil, "broadcast if the right side is at most \(limitText) when it is known, else shuffle")
            }
            if rightBytes <= limit {
                return (true, "broadcast (right side \(Join.bytesText(rightBytes)) <= broadcast limit \(limitText))")
            }
            return (false, "shuffle (right side \(Join.bytesText(rightBytes)) > broadcast limit \(limitText))")
        }
    }

    /// Bytes as `12.3 MiB`, `512 B`.
    public static func bytesText(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }
}

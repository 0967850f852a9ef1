#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MrshDataPath
import MrshPlan

/// Skew handling of shuffle joins: before a `.join` job with more than one reducer runs, the coordinator
/// samples both sides' keys (`JoinKeySampler`) and salts the hot ones (`JoinSalt`, `HotJoinKey`): the hot
/// side's records of such a key are spread over `fanout` salted keys, and the other side's records of it
/// are copied to each. Without this, one reducer would receive every record of a key.
///
/// A key is hot on a side when it holds more than 1/(2R) of that side's sample (R reducers) and at least
/// `minimumCount` sampled records: alone it is then at least half of an even reducer's share. Its fanout
/// is min(R, ⌈share · 2R⌉) (about one reducer per half share). A key hot on both sides is spread on the
/// side where its share is larger. A left join spreads only keys hot on the left: a copy of a left record
/// could not tell, in a salt without right records, whether the key has right records in another salt.
///
/// `MRSH_JOIN_SKEW=off` in the coordinator's environment turns it off (for benchmarks).
package enum JoinSkew {
    /// Sampled records a key needs to be hot.
    package static let minimumCount = 8

    /// Whether skew handling is on (`MRSH_JOIN_SKEW` not set to `off`).
    package static var isEnabled: Bool {
        guard let value = getenv("MRSH_JOIN_SKEW") else { return true }
        return String(cString: value) != "off"
    }

    /// `spec` with its hot keys salted (unchanged for a job that is not a shuffle join, for one reducer,
    /// or without hot keys). `tasks`: the job's map tasks, source by source, `sourceStarts` the first task
    /// of each source.
    package static func salted(
        _ spec: JobSpec, tasks: [[InputSplit]], sourceStarts: [Int], reducers: Int, sampleSize: Int,
        fetcher: any BlobFetcher, store: BlobStore, logger: Logger
    ) async throws -> JobSpec {
        guard let join = spec.join, reducers > 1, isEnabled else { return spec }
        let sampled = tasks.enumerated().map {
            (source: SourceStarts.source(ofTask: $0.offset, starts: sourceStarts), splits: $0.element)
        }
        let (right, left) = try await JoinKeySampler.sample(
            spec: spec, rightSources: join.rightSources, tasks: sampled, sampleSize: sampleSize, fetcher: fetcher,
            store: store)
        let hot = hotKeys(right: right, left: left, reducers: reducers, kind: join.kind)
        if hot.isEmpty { return spec }
        logger.debug("job \(spec.id): \(hot.count) hot join keys, fanouts \(hot.map(\.fanout))")
        return salting(spec, hotKeys: hot)
    }

    /// The hot keys of two samples (sorted by key, so the choice is deterministic).
    package static func hotKeys(
        right: JoinKeySampler.Side, left: JoinKeySampler.Side, reducers: Int, kind: Join.Kind
    ) -> [HotJoinKey] {
        guard reducers > 1 else { return [] }
        func share(_ key: [UInt8], _ side: JoinKeySampler.Side) -> Double? {
            guard let count = side.counts[key], count >= minimumCount, side.records > 0 else { return nil }
            let share = Double(count) / Double(side.records)
            return share > 1 / Double(2 * reducers) ? share : nil
        }
        var keys = Set(left.counts.keys)
        if kind == .inner { keys.formUnion(right.counts.keys) }
        var hot: [HotJoinKey] = []
        for key in keys {
            let leftShare = share(key, left)
            let rightShare = kind == .inner ? share(key, right) : nil
            let onRight: Bool
            let chosen: Double
            switch (leftShare, rightShare) {
            case (nil, nil): continue
            case (let l?, nil): (onRight, chosen) = (false, l)
            case (nil, let r?): (onRight, chosen) = (true, r)
            case (let l?, let r?): (onRight, chosen) = r > l ? (true, r) : (false, l)
            }
            let fanout = min(reducers, Int((chosen * Double(2 * reducers)).rounded(.up)))
            if fanout > 1 { hot.append(HotJoinKey(key: key, fanout: fanout, hotOnRight: onRight)) }
        }
        return hot.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// `spec` with `hotKeys` in its join and in the salt of every source's `.prependJoinKey`.
    package static func salting(_ spec: JobSpec, hotKeys: [HotJoinKey]) -> JobSpec {
        guard var join = spec.join else { return spec }
        var spec = spec
        join.hotKeys = hotKeys
        spec.shuffle = .join(join)
        let salt = JoinSalt(hotKeys: hotKeys)
        for index in spec.sources.indices {
            var ops = spec.sources[index].mapOps
            if case .prependJoinKey(let key, let side, _)? = ops.last {
                ops[ops.count - 1] = .prependJoinKey(key, side, salt: salt)
            }
            spec.sources[index].mapOps = ops
        }
        return spec
    }
}

import Foundation
import MrshTestSupport
import Testing
@testable import MrshControl
@testable import MrshDataPath
import MrshPlan

/// Skew handling of shuffle joins (`JoinSkew`): which keys are hot, and a skewed join that stays exact while
/// its hot key's records are spread over several parts.
@Suite struct JoinSkewTests {
    static func side(_ counts: [String: Int], records: Int) -> JoinKeySampler.Side {
        JoinKeySampler.Side(counts: Dictionary(uniqueKeysWithValues: counts.map { (Array($0.key.utf8), $0.value) }), records: records)
    }

    @Test func hotKeysHoldMoreThanHalfAnEvenReducerShare() {
        let left = Self.side(["h": 500, "m": 130, "s": 100, "few": 7], records: 1000)
        let right = Self.side(["r": 400, "h": 1], records: 1000)
        // R = 4: more than 1/8 of a side is hot; fanout min(R, ceil(share * 2R)).
        let inner = JoinSkew.hotKeys(right: right, left: left, reducers: 4, kind: .inner)
        #expect(inner == [
            HotJoinKey(key: Array("h".utf8), fanout: 4, hotOnRight: false),
            HotJoinKey(key: Array("m".utf8), fanout: 2, hotOnRight: false),
            HotJoinKey(key: Array("r".utf8), fanout: 4, hotOnRight: true),
        ])
        // A left join spreads only keys hot on the left.
        #expect(JoinSkew.hotKeys(right: right, left: left, reducers: 4, kind: .left).map(\.key) == [Array("h".utf8), Array("m".utf8)])
        // One reducer: nothing to spread; a tiny count is never hot.
        #expect(JoinSkew.hotKeys(right: right, left: left, reducers: 1, kind: .inner) == [])
        #expect(JoinSkew.hotKeys(right: Self.side([:], records: 0), left: Self.side(["x": 7], records: 7), reducers: 4, kind: .inner) == [])
        // Hot on both sides: spread where the share is larger.
        let both = JoinSkew.hotKeys(right: Self.side(["k": 600], records: 1000), left: Self.side(["k": 300], records: 1000), reducers: 2, kind: .inner)
        #expect(both == [HotJoinKey(key: Array("k".utf8), fanout: 2, hotOnRight: true)])
    }

    @Test func saltingRewritesEveryJoinKeyAndTheShuffle() {
        let plan = JoinShuffleTests.joinPlan(left: "l", right: "r", leftKey: 2, rightKey: 1, kind: .inner, rightFieldCount: 1, reducers: 2)
        let hot = [HotJoinKey(key: [0x61], fanout: 2, hotOnRight: false)]
        let salted = JoinSkew.salting(plan.jobs[0], hotKeys: hot)
        #expect(salted.join?.hotKeys == hot)
        for source in salted.sources {
            guard case .prependJoinKey(_, _, let salt)? = source.mapOps.last else {
                Issue.record("no join key")
                continue
            }
            #expect(salt == JoinSalt(hotKeys: hot))
        }
    }

    @Test(arguments: [Join.Kind.inner, .left])
    func aSkewedJoinIsExactAndSpreadsItsHotKey(kind: Join.Kind) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: 41)
        var left: [UInt8] = []
        for i in 0..<6000 {
            let key = Int.random(in: 0..<2, using: &rng) == 0 ? "hot" : "k\(Int.random(in: 0..<300, using: &rng))"
            left += Array("l\(i)\t\(key)\tv\(i % 7)\n".utf8)
        }
        var right: [UInt8] = []
        for i in 0..<250 { right += Array("k\(i)\tr\(i)\n".utf8) }
        right += Array("hot\tH1\nhot\tH2\n".utf8)
        dir.write("left.txt", left)
        dir.write("right.txt", right)
        let out = dir.file("out")
        let plan = JoinShuffleTests.joinPlan(
            left: dir.file("left.txt"), right: dir.file("right.txt"), leftKey: 2, rightKey: 1, kind: kind,
            rightFieldCount: 1, reducers: 4, output: .directory(path: out, overwrite: false))
        let options = EngineOptions(
            workers: 2, settings: JobSettings(reducers: 4, splitSize: 16 << 10, memoryBudget: 1 << 20),
            scratchDirectory: dir.file("scratch"))
        _ = try await Engine(options: options).run(plan, output: CollectingSink())
        let parts = try FileIO.listDirectory(out).filter { $0.hasPrefix("part-") }.sorted()
        #expect(parts.count == 4)
        var all: [[UInt8]] = []
        var partsWithHot = 0
        for part in parts {
            let lines = JoinShuffleTests.lines(readBytes(out + "/" + part))
            if lines.contains(where: { String(decoding: $0, as: UTF8.self).split(separator: "\t")[1] == "hot" }) { partsWithHot += 1 }
            all += lines
        }
        let want = try JoinShuffleTests.expected(
            dir.path, left: dir.file("left.txt"), right: dir.file("right.txt"), leftKey: 2, rightKey: 1, kind: kind,
            rightFieldCount: 1)
        JoinShuffleTests.expectSame(all.sorted { $0.lexicographicallyPrecedes($1) }, want)
        #expect(partsWithHot > 1)
    }
}

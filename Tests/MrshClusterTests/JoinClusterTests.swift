import Foundation
import Glibc
import MrshCluster
import MrshControl
import MrshDataPath
import MrshPlan
import MrshWire
import Testing

/// A shuffle join on worker processes of the built `mrsh`: its plan (right side first, every source ending
/// with `.prependJoinKey`) submitted to a coordinator over TCP, its answer compared with a plain nested
/// computation. A hot key makes the coordinator salt it, so salts travel in the tasks' specs too.
@Suite(.serialized, .timeLimit(.minutes(2))) struct JoinClusterTests {
    static func expected(left: [[Substring]], right: [[Substring]], kind: Join.Kind) -> [String] {
        var table: [Substring: [String]] = [:]
        for fields in right where !fields[0].isEmpty {
            table[fields[0], default: []].append(fields.dropFirst().map { "\t" + $0 }.joined())
        }
        var out: [String] = []
        for fields in left {
            let record = fields.joined(separator: "\t")
            let key = fields.count > 1 ? fields[1] : ""
            let matches = key.isEmpty ? [] : table[key] ?? []
            if matches.isEmpty {
                if kind == .left { out.append(record + "\t") }
            } else {
                out += matches.map { record + $0 }
            }
        }
        return out.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    @Test func shuffleJoinOnWorkerProcessesIsExact() async throws {
        let cluster = try await ProcessCluster.start(workers: 3)
        defer { cluster.stop() }
        try FileManager.default.createDirectory(atPath: cluster.directory + "/data", withIntermediateDirectories: true)
        var leftText = ""
        for i in 0..<4000 {
            let key = i % 2 == 0 ? "hot" : (i % 13 == 0 ? "" : "k\(i % 500)")
            leftText += "l\(i)\t\(key)\n"
        }
        var rightText = "hot\tH\n"
        for i in 0..<400 { rightText += "k\(i)\tr\(i)\n" }
        try Data(leftText.utf8).write(to: URL(fileURLWithPath: cluster.directory + "/data/left.txt"))
        try Data(rightText.utf8).write(to: URL(fileURLWithPath: cluster.directory + "/data/right.txt"))
        let split = { (text: String) in text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) } }
        let address = try #require(HostPort(cluster.coordinatorAddress))
        let client = ClusterClient(address: address, token: AuthToken("process-cluster-token"), group: testGroup)
        for kind in [Join.Kind.inner, .left] {
            let join = Join(kind: kind, strategy: .shuffle, rightSources: 1, rightFieldCount: 1)
            let spec = JobSpec(
                id: 0,
                sources: [
                    JobSource(input: .files(["data/right.txt"]), mapOps: [.prependJoinKey(.field(1), .right(removingField: 1), salt: nil)]),
                    JobSource(input: .files(["data/left.txt"]), mapOps: [.prependJoinKey(.field(2), .left, salt: nil)]),
                ],
                shuffle: .join(join), reducers: 3, output: .standardOutput)
            let sink = CollectingSink()
            _ = try await client.runPlan(
                JobPlan(jobs: [spec]), standardInput: nil, workingDirectory: cluster.directory,
                settings: JobSettings(reducers: 3, splitSize: 8 << 10), output: sink, progress: { _ in })
            let lines = sink.lines.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let want = Self.expected(left: split(leftText), right: split(rightText), kind: kind)
            #expect(lines.count == want.count)
            #expect(lines == want)
        }
    }
}

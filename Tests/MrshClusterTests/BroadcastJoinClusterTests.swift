import Foundation
import Glibc
import MrshCluster
import MrshDataPath
import MrshPlan
import MrshWire
import Testing

/// Broadcast joins on worker processes of the built `mrsh`: every map task of a worker loads the right side
/// itself, from the files (read by the worker) or from an earlier job's parts (fetched from the coordinator
/// or their maker, as any map task reading `.job(k)` fetches them).
@Suite(.serialized, .timeLimit(.minutes(2))) struct BroadcastJoinClusterTests {
    /// The join of `left` (key field 2) with `right` (key field 1): left order, then right order; an empty key
    /// matches nothing; a left join pads with `rightFieldCount` TABs.
    static func join(left: [String], right: [String], kind: Join.Kind, rightFieldCount: Int) -> [String] {
        func field(_ record: String, _ k: Int) -> String {
            let fields = record.split(separator: "\t", omittingEmptySubsequences: false)
            return k - 1 < fields.count ? String(fields[k - 1]) : ""
        }
        var table: [String: [String]] = [:]
        for record in right {
            var fields = record.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let key = fields.first, !key.isEmpty else { continue }
            fields.removeFirst()
            table[key, default: []].append(fields.map { "\t" + $0 }.joined())
        }
        var out: [String] = []
        for record in left {
            let key = field(record, 2)
            let matches = key.isEmpty ? [] : table[key] ?? []
            out += matches.map { record + $0 }
            if matches.isEmpty && kind == .left { out.append(record + String(repeating: "\t", count: rightFieldCount)) }
        }
        return out
    }

    static func joinJob(id: Int, left: JobInput, right: JobInput, kind: Join.Kind, rightFieldCount: Int) -> JobSpec {
        JobSpec(
            id: id,
            sources: [
                JobSource(input: right, mapOps: [.prependJoinKey(.field(1), .right(removingField: 1), salt: nil)]),
                JobSource(input: left, mapOps: [.prependJoinKey(.field(2), .left, salt: nil)]),
            ],
            shuffle: .join(Join(kind: kind, rightSources: 1, rightFieldCount: rightFieldCount)), output: .standardOutput)
    }

    @Test func workersLoadTheRightSideFromFilesAndFromAnEarlierJob() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        let data = cluster.directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let users = (0..<400).map { "u\($0 % 350)\tname\($0)-é\t\($0 % 7 == 0 ? "" : "x")" }
        let log = (0..<6000).map { "l\($0)\tu\(($0 * 7919) % 500)\t\($0 % 3)" } + ["no-key-here"]
        try Data((users.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: data + "/users.tsv"))
        try Data((log.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: data + "/log.tsv"))
        let client = ClusterClient(
            address: try #require(HostPort(cluster.coordinatorAddress)), token: AuthToken("process-cluster-token"),
            group: testGroup)
        // Small splits: many map tasks over both workers, each loading the table.
        let settings = JobSettings(splitSize: 16 << 10)

        // The right side in files, relative to the client's directory: the workers read them.
        let filesPlan = JobPlan(jobs: [
            Self.joinJob(id: 0, left: .files(["data/log.tsv"]), right: .files(["data/users.tsv"]), kind: .left, rightFieldCount: 2)
        ])
        let sink = CollectingSink()
        let summary = try await client.runPlan(
            filesPlan, standardInput: nil, workingDirectory: cluster.directory, settings: settings, output: sink, progress: { _ in })
        #expect(sink.lines == Self.join(left: log, right: users, kind: .left, rightFieldCount: 2))
        #expect(summary.jobs[0].join?.hasPrefix("broadcast (right side") == true, "\(summary.jobs[0].join ?? "nil")")
        #expect(summary.jobs[0].mapTasks > 2)
        #expect(await eventually(5) { cluster.coordinator.stderr.contains("job 0: join by broadcast (right side") },
            "\(cluster.coordinator.stderr)")

        // The right side is job 0's output (a count per user id, its parts on the workers).
        let countsPlan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files(["data/users.tsv"]), mapOps: [.pick([1])], shuffle: .aggregate(.count), reducers: 3,
                output: .intermediate),
            Self.joinJob(id: 1, left: .files(["data/log.tsv"]), right: .job(0), kind: .inner, rightFieldCount: 1),
        ])
        let counted = CollectingSink()
        let countsSummary = try await client.runPlan(
            countsPlan, standardInput: nil, workingDirectory: cluster.directory, settings: settings, output: counted,
            progress: { _ in })
        var counts: [String: Int] = [:]
        for user in users { counts[String(user.prefix { $0 != "\t" }), default: 0] += 1 }
        #expect(counted.lines == Self.join(left: log, right: counts.map { "\($0.key)\t\($0.value)" }, kind: .inner, rightFieldCount: 1))
        #expect(countsSummary.jobs[1].join?.hasPrefix("broadcast") == true)
    }
}

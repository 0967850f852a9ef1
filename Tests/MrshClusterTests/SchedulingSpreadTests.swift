import Foundation
import Glibc
import MrshCluster
import Testing

/// Every worker gets work (issue 16): jobs on worker processes of the built `mrsh`, map tasks counted per
/// worker from the coordinator's log ("map attempts per worker: w0=2, w1=2, w2=2": attempts started, so a
/// backup that won elsewhere still counts for the worker that ran the first attempt).
@Suite(.serialized, .timeLimit(.minutes(2))) struct SchedulingSpreadTests {
    /// The map attempts each worker started in the coordinator's last run.
    static func mapsPerWorker(_ log: String, workers: Int) -> [String: Int] {
        let lines = log.split(separator: "\n").filter { $0.contains("map attempts per worker: ") }
        guard let last = lines.last, let range = last.range(of: "map attempts per worker: ") else { return [:] }
        var counts: [String: Int] = [:]
        for worker in (0..<workers).map({ "w\($0)" }) { counts[worker] = 0 }
        for item in last[range.upperBound...].split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "=")
            if parts.count == 2, let n = Int(parts[1]) { counts[String(parts[0])] = n }
        }
        return counts
    }

    /// The word count of `copies` copies of `text`.
    static func wordCount(_ text: String, copies: Int) -> String {
        DistributedTests.wordCount([text]).split(separator: "\n").map { line -> String in
            let fields = line.split(separator: "\t")
            return "\(fields[0])\t\((Int(fields[1]) ?? 0) * copies)\n"
        }.joined()
    }

    /// `files` copies of one generated text of about `bytes` bytes in `directory/data`; returns the text.
    static func writeCopies(in directory: String, files: Int, bytes: Int) throws -> String {
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var text = generatedText(lines: 2000, seed: 4242)
        let block = text
        while text.utf8.count < bytes { text += block }
        for i in 0..<files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: data + "/f\(String(format: "%02d", i)).txt"))
        }
        return text
    }

    /// The issue's report: 3 workers of 2 slots, a word count of 24 files; the third worker got no task.
    /// Splits are now sized for about 2 map tasks per slot (24 MiB: 6 tasks of 4 MiB, the floor), and each
    /// task goes to the least-loaded worker: every worker runs map tasks.
    @Test func threeWorkersOfTwoSlotsEachRunMapTasks() async throws {
        let cluster = try await ProcessCluster.start(workers: 3, slots: 2)
        defer { cluster.stop() }
        let text = try Self.writeCopies(in: cluster.directory, files: 24, bytes: 1 << 20)
        let count = try cluster.client(["--quiet", "-e", #"read "data/*.txt" | map words | reduce count"#], directory: cluster.directory)
        #expect(await count.wait() == 0, "\(count.stderr)")
        #expect(count.stdout == Self.wordCount(text, copies: 24))
        let maps = await Self.awaitMapsPerWorker(cluster, runs: 1, workers: 3)
        #expect(maps.values.reduce(0, +) >= 6, "\(maps)")
        for (worker, done) in maps { #expect(done >= 1, "\(worker) ran no map task: \(maps)") }
    }

    /// 8 workers of 1 slot. 8 map tasks: one each, within one (a backup of a straggler) of even: the first
    /// wave spreads evenly; later tasks go to whichever worker frees a slot first, so faster workers run
    /// more, as the paper intends, and the exact spread of a longer job depends on timing. 16 map tasks:
    /// every worker runs some.
    @Test func eightWorkersOfOneSlotShareTheMapsEvenly() async throws {
        let cluster = try await ProcessCluster.start(workers: 8, slots: 1)
        defer { cluster.stop() }
        let text = try Self.writeCopies(in: cluster.directory, files: 16, bytes: 200_000)
        for (job, files, copies) in [(1, "data/f0[0-7].txt", 8), (2, "data/*.txt", 16)] {
            let count = try cluster.client(
                ["--quiet", "--split-size", "256K", "-e", "read \"\(files)\" | map words | reduce count"],
                directory: cluster.directory)
            #expect(await count.wait() == 0, "\(count.stderr)")
            #expect(count.stdout == Self.wordCount(text, copies: copies))
            let maps = await Self.awaitMapsPerWorker(cluster, runs: job, workers: 8)
            #expect(maps.values.reduce(0, +) >= copies, "\(maps)")
            for (worker, done) in maps {
                if job == 1 {
                    #expect((1...2).contains(done), "\(worker) ran \(done) map attempts: \(maps)")
                } else {
                    #expect(done >= 1, "\(worker) ran no map task: \(maps)")
                }
            }
        }
    }

    /// The map attempts per worker of the coordinator's `runs`-th run, once its line is in the log.
    static func awaitMapsPerWorker(_ cluster: ProcessCluster, runs: Int, workers: Int) async -> [String: Int] {
        let log = cluster.coordinator
        let logged = await eventually(10) { log.stderr.components(separatedBy: "map attempts per worker: ").count > runs }
        #expect(logged, "no map attempts per worker line for run \(runs): \(log.stderr)")
        let maps = mapsPerWorker(log.stderr, workers: workers)
        #expect(maps.count == workers, "\(log.stderr)")
        return maps
    }
}

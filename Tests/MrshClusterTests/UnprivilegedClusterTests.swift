#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshTestSupport
import Testing

/// `mrsh coordinator`, three `mrsh worker --join` and a `--cluster` client, every one of them as `nobody` in a
/// folder that user owns: the many-machine setup as an ordinary account runs it.
@Suite("cluster as an ordinary user", .enabled(if: Unprivileged.isAvailable, "\(Unprivileged.unavailableReason ?? "")"))
struct UnprivilegedClusterTests {
    @Test("a coordinator and three workers run a word count with write and a count, all as nobody")
    func threeWorkerCluster() async throws {
        let home = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-cluster-nobody")
        defer { Unprivileged.remove(home) }
        let binary = try Unprivileged.reachableBinary(mrshBinary, copyInto: home)
        let temporary = home + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home + "/in", withIntermediateDirectories: true)
        var expected: [String: Int] = [:]
        for file in 0..<3 {
            let text = generatedText(lines: 2500, seed: UInt64(40 + file))
            for line in text.split(separator: "\n") { for word in asciiWords(line) { expected[String(word), default: 0] += 1 } }
            try Data(text.utf8).write(to: URL(fileURLWithPath: home + "/in/f\(file).txt"))
        }
        try Unprivileged.writeOwnedFile(home + "/token", Data("an-ordinary-users-cluster-token\n".utf8))
        try Unprivileged.giveTree(home)
        let environment = Unprivileged.environment(home: home, temporary: temporary)

        func start(_ arguments: [String]) throws -> Child {
            let (executable, wrapped) = Unprivileged.command(binary, arguments)
            return try Child(executable, wrapped, directory: home, environment: environment, replacingEnvironment: true)
        }

        let coordinator = try start([
            "coordinator", "--listen", "127.0.0.1:0", "--token-file", "token", "--heartbeat-interval", "0.2",
        ])
        var workers: [Child] = []
        defer {
            for worker in workers { worker.stop() }
            coordinator.stop()
        }
        let pattern = "mrsh coordinator: listening on (\\S+)"
        let started = await eventually(20) { firstCapture(pattern, in: coordinator.stderr) != nil }
        let address = try #require(firstCapture(pattern, in: coordinator.stderr), "coordinator: \(coordinator.stderr)")
        #expect(started)
        for i in 0..<3 {
            workers.append(try start(["worker", "--join", address, "--token-file", "token", "--slots", "2", "--id", "u\(i)"]))
        }
        let registered = await eventually(20) {
            workers.enumerated().allSatisfy { i, w in w.stderr.contains("registered as u\(i)") }
        }
        #expect(registered, "workers: \(workers.map(\.stderr)); coordinator: \(coordinator.stderr)")
        #expect(!coordinator.stderr.contains("Permission denied"), "\(coordinator.stderr)")

        let wordCount = try start([
            "--cluster", address, "--token-file", "token", "--split-size", "16K", "--reducers", "3", "--quiet", "-e",
            #"read "in/*.txt" | map words | reduce count | write out"#,
        ])
        #expect(await wordCount.wait(timeout: 90) == 0, "\(wordCount.stderr)")
        var counted: [String: Int] = [:]
        let parts = try FileManager.default.contentsOfDirectory(atPath: home + "/out").filter { $0.hasPrefix("part-") }
        #expect(parts.count == 3)
        for part in parts {
            for line in try String(contentsOfFile: home + "/out/" + part, encoding: .utf8).split(separator: "\n") {
                let fields = line.split(separator: "\t")
                counted[String(fields[0])] = Int(fields[1])
            }
        }
        #expect(counted == expected)
        #expect(FileManager.default.fileExists(atPath: home + "/out/_SUCCESS"))

        let count = try start(["--cluster", address, "--token-file", "token", "--quiet", "-e", #"read "/etc/hostname" | count"#])
        #expect(await count.wait(timeout: 60) == 0, "\(count.stderr)")
        #expect(count.stdout == "1\n")
    }
}

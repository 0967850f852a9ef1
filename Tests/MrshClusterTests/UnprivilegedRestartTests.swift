#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshTestSupport
import Testing

/// The restartable coordinator as an ordinary account runs it: coordinator (`--state-dir` in a folder `nobody`
/// owns), workers and client all as `nobody`; the coordinator is SIGKILLed mid-job and started again.
@Suite("a coordinator that comes back, as an ordinary user", .enabled(if: Unprivileged.isAvailable, "\(Unprivileged.unavailableReason ?? "")"))
struct UnprivilegedRestartTests {
    @Test("a word count written to a directory survives a SIGKILLed coordinator, all as nobody")
    func restartAsNobody() async throws {
        let home = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-restart-nobody")
        defer { Unprivileged.remove(home) }
        let binary = try Unprivileged.reachableBinary(mrshBinary, copyInto: home)
        let temporary = home + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var random = SplitMix64(seed: 7)
        try CoordinatorRestartTests.makeData(in: home, random: &random)
        try Unprivileged.writeOwnedFile(home + "/token", Data("an-ordinary-users-restart-token\n".utf8))
        try Unprivileged.giveTree(home)
        let counts = try await shellOutput("cat data/*.txt | " + CoordinatorRestartTests.awkCount + " | sort", in: home)
        let environment = Unprivileged.environment(
            home: home, temporary: temporary, extra: ["MRSH_VERBOSE": "1", "MRSH_TEST_SLOW_WORKER": "*:0.2"])

        func start(_ arguments: [String]) throws -> Child {
            let (executable, wrapped) = Unprivileged.command(binary, arguments)
            return try Child(executable, wrapped, directory: home, environment: environment, replacingEnvironment: true)
        }
        func coordinator(_ listen: String) throws -> Child {
            try start([
                "coordinator", "--listen", listen, "--token-file", "token", "--state-dir", "state", "--heartbeat-interval",
                "0.2", "--heartbeat-timeout", "2", "--status-listen", "off",
            ])
        }

        let first = try coordinator("127.0.0.1:0")
        var children = [first]
        defer { for child in children { child.stop() } }
        let pattern = "mrsh coordinator: listening on (\\S+)"
        #expect(await eventually(20) { firstCapture(pattern, in: first.stderr) != nil })
        let address = try #require(firstCapture(pattern, in: first.stderr), "coordinator: \(first.stderr)")
        for i in 0..<2 {
            children.append(
                try start(["worker", "--join", address, "--token-file", "token", "--slots", "1", "--id", "u\(i)", "--retry", "30"]))
        }
        #expect(await eventually(20) { first.stderr.contains("worker u0 registered") && first.stderr.contains("worker u1 registered") })
        let client = try start([
            "--cluster", address, "--token-file", "token", "--split-size", "16K", "--reducers", "4", "--quiet", "-e",
            #"read "data/*.txt" | map words | reduce count | write out"#,
        ])
        children.append(client)
        #expect(await eventually(60) { first.stderr.components(separatedBy: "done map-").count > 3 || !client.process.isRunning })
        kill(first.pid, SIGKILL)
        first.stop()
        let second = try coordinator(address)
        children.append(second)
        #expect(await client.wait(timeout: 90) == 0, "\(client.stderr)\n\(second.stderr.suffix(3000))")
        #expect(client.stderr.contains("coordinator lost; waiting up to 60 s"), "\(client.stderr)")
        #expect(second.stderr.contains("resumed:"), "\(second.stderr.suffix(3000))")
        #expect(!second.stderr.contains("Permission denied"), "\(second.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: home + "/out").filter { $0.hasPrefix("part-") }.sorted()
        let text = try parts.map { try String(contentsOfFile: home + "/out/" + $0, encoding: .utf8) }.joined()
        let lines = text.split(separator: "\n").map { $0 + "\n" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(lines.joined() == counts)
        #expect(FileManager.default.fileExists(atPath: home + "/out/_SUCCESS"))
    }
}

import Foundation
import Glibc
import MrshCluster
import MrshControl
import MrshDataPath
import MrshPlan
import MrshWire
import Synchronization
import Testing

/// A plan runner that records the settings each submission carried and prints nothing.
final class SettingsRecorder: ClusterPlanRunner {
    let received = Mutex<[JobSettings?]>([])

    func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        fetcher: any BlobFetcher, output: ClientOutput, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport {
        received.withLock { $0.append(submission.settings) }
        return RunReport(summary: JobSummary(jobs: [], elapsed: 0, partsWritten: 0, recordsOutput: 0))
    }

    func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        throw EngineError.failed("nothing to resolve")
    }
}

/// Every default of a job setting is `JobSettings.defaults`, whichever way it is reached: a second copy of a
/// default (in a CLI flag, a cluster's options, the engine, the wire) makes one of these differ.
@Suite(.serialized) struct OneSetOfDefaultsTests {
    @Test func theCommandLineSubmitsExactlyTheDefaults() async throws {
        let recorder = SettingsRecorder()
        let cluster = try await TestCluster.start(workers: 1, runner: { _ in recorder }, token: "test-token-long-enough")
        defer { Task { await cluster.stop() } }
        let tokenFile = cluster.directory + "/token"
        try writeTokenFile("test-token-long-enough", to: tokenFile)
        let client = try Child(
            mrsh: ["--cluster", cluster.coordinator.address.description, "--token-file", tokenFile, "--quiet", "-e", "count"],
            directory: cluster.directory)
        #expect(await client.wait() == 0, "\(client.stderr)")
        let flagged = try Child(
            mrsh: [
                "--cluster", cluster.coordinator.address.description, "--token-file", tokenFile, "--quiet",
                "--reducers", "3", "--no-backup-tasks", "-e", "count",
            ],
            directory: cluster.directory)
        #expect(await flagged.wait() == 0, "\(flagged.stderr)")
        let received = recorder.received.withLock { $0 }
        try #require(received.count == 2)
        #expect(received[0] == JobSettings.defaults)
        var expected = JobSettings.defaults
        expected.reducers = 3
        expected.backupTasks = false
        #expect(received[1] == expected)
    }

    @Test func theCommandLineHelpShowsTheDefaults() async throws {
        let defaults = JobSettings.defaults
        // The help as one line of words: ArgumentParser wraps it to the terminal's width.
        func words(_ text: String) -> String { text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ") }
        let help = try Child(mrsh: ["--help"])
        #expect(await help.wait() == 0)
        let root = words(help.stdout)
        #expect(root.contains("before its job fails (default \(defaults.maxAttempts))"), "\(root)")
        #expect(root.contains("declared dead (default \(Int(defaults.heartbeatTimeout.seconds)))"), "\(root)")
        let coordinator = try Child(mrsh: ["coordinator", "--help"])
        #expect(await coordinator.wait() == 0)
        let text = words(coordinator.stdout)
        #expect(text.contains("Seconds between heartbeats. (default: \(Int(defaults.heartbeatInterval.seconds)))"), "\(text)")
        #expect(text.contains("worker is lost. (default: \(Int(defaults.heartbeatTimeout.seconds)))"), "\(text)")
    }

    @Test func clusterOptionsAndTheEngineStartFromTheDefaults() throws {
        let defaults = JobSettings.defaults
        #expect(HeartbeatSettings() == HeartbeatSettings(interval: defaults.heartbeatInterval, timeout: defaults.heartbeatTimeout))
        let options = CoordinatorOptions(listen: HostPort(host: "127.0.0.1", port: 0), token: AuthToken("t"), scratch: "/tmp")
        #expect(options.heartbeat == HeartbeatSettings())
        #expect(EngineOptions().settings == defaults)
        #expect(EngineOptions(workers: 3).settings == defaults)
        // The engine's view of the settings is the settings themselves (clamped), not copies of them.
        var engine = EngineOptions(workers: 3)
        engine.settings.splitSize = 12345
        engine.settings.maxAttempts = 9
        #expect(engine.splitSize == 12345 && engine.maxAttempts == 9)
        #expect(engine.reducers == 6 && engine.autoReducers)
    }

    @Test func theWelcomeSpeaksSecondsOnTheWire() throws {
        let welcome = WorkerWelcome(
            workerID: "w1", heartbeatInterval: .milliseconds(250), heartbeatTimeout: .seconds(10),
            coordinatorShuffleAddress: "127.0.0.1:1")
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(welcome)) as? [String: Any]
        #expect(json?["heartbeatInterval"] as? Double == 0.25)
        #expect(json?["heartbeatTimeout"] as? Double == 10)
        // What an older coordinator sends decodes the same.
        let old = #"{"workerID":"w1","heartbeatInterval":0.25,"heartbeatTimeout":10,"coordinatorShuffleAddress":"127.0.0.1:1"}"#
        #expect(try JSONDecoder().decode(WorkerWelcome.self, from: Data(old.utf8)) == welcome)
    }
}

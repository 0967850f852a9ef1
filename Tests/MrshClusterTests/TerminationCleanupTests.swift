import Foundation
import Glibc
import Testing

/// A standalone coordinator and worker stopped by SIGTERM (a service manager's stop), SIGINT or SIGHUP (the
/// terminal they were started from closed) remove the
/// scratch directories they made in `TMPDIR`, and end by that signal.
@Suite(.serialized, .timeLimit(.minutes(2))) struct TerminationCleanupTests {
    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func standaloneProcessesRemoveTheirScratchWhenStopped(signal: Int32) async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let temporary = directory + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let tokenFile = directory + "/token"
        try writeTokenFile("termination-cleanup-token\n", to: tokenFile)
        let environment = ["TMPDIR": temporary]
        let coordinator = try Child(
            mrsh: ["coordinator", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--status-listen", "off"],
            environment: environment)
        defer { coordinator.stop() }
        #expect(await eventually(20) { coordinator.stderr.contains("mrsh coordinator: listening on") })
        let address = try #require(firstCapture(#"mrsh coordinator: listening on (\S+)"#, in: coordinator.stderr))
        let worker = try Child(
            mrsh: ["worker", "--join", address, "--token-file", tokenFile, "--slots", "1", "--id", "w1"],
            environment: environment)
        defer { worker.stop() }
        #expect(await eventually(20) { coordinator.stderr.contains("worker w1 registered") }, "\(coordinator.stderr)\n\(worker.stderr)")
        let made = try FileManager.default.contentsOfDirectory(atPath: temporary).sorted()
        #expect(made.contains { $0.hasPrefix("mrsh-coordinator-") }, "\(made)")
        #expect(made.contains { $0.hasPrefix("mrsh-worker-") }, "\(made)")

        kill(worker.pid, signal)
        _ = await worker.wait(timeout: 20)
        #expect(worker.process.terminationReason == .uncaughtSignal && worker.process.terminationStatus == signal)
        kill(coordinator.pid, signal)
        _ = await coordinator.wait(timeout: 20)
        #expect(coordinator.process.terminationReason == .uncaughtSignal && coordinator.process.terminationStatus == signal)
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary)
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
    }
}

import Foundation
import MrshControl
import MrshDataPath
import MrshPlan
import Synchronization
import Testing
@testable import MrshShell

/// `:set broadcast-limit`: listed with its default, set with a size, refused otherwise, carried by the next job.
@Suite struct BroadcastLimitOptionTests {
    @Test func setBroadcastLimitReachesTheNextJob() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-shell-\(UUID().uuidString).txt").path
        try "a\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let runner = try ScriptedRunner(blocks: false)
        let backend = SessionShellBackend(runner: runner, options: SessionOptions(defaultReducers: 2))
        func shown() async -> String? { await backend.options().first { $0.name == "broadcast-limit" }?.value }
        #expect(await shown() == ByteSize.format(JobSettings.defaults.broadcastLimit))
        #expect(await backend.setOption("broadcast-limit", to: "lots") != nil)
        #expect(await backend.setOption("broadcast-limit", to: "1G") == nil)
        #expect(await shown() == "1G")
        let (output, _, _) = SessionShellBackendTests().makeOutput()
        #expect(await backend.execute("read \"\(path)\" | count", sourceName: "t", output: output, cancellation: CancellationFlag()) == .success)
        #expect(runner.lastSettings.withLock { $0 }?.broadcastLimit == 1 << 30)
    }
}

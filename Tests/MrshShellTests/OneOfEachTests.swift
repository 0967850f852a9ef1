import Foundation
import MrshControl
import MrshDataPath
import MrshPlan
import Testing
@testable import MrshShell

/// The single types of the surface: one mapping of errors to messages and exit statuses, one set of defaults.
@Suite struct OneOfEachTests {
    @Test func everyErrorMapsToOneMessageAndStatus() {
        let noMatch = Failure(EngineError.noMatch(pattern: "logs/*"))
        #expect(noMatch.message == "no file matches 'logs/*'")
        #expect(noMatch.status == .scriptError)
        #expect(noMatch.line == "mrsh: error: no file matches 'logs/*'\n")
        let task = Failure(EngineError.taskFailed(task: "map 1", job: 1, attempts: 3, location: nil, cause: "boom"))
        #expect(task.status == .runtimeError)
        #expect(task.message == "task map 1 of job 1 failed 3 times: boom")
        #expect(Failure(CancellationError()).message == "job cancelled")
        #expect(Failure(CancellationError()).status.rawValue == 1)
        #expect(Failure(SystemError(call: "open", subject: "x", errno: ENOENT)).status == .runtimeError)
        let worker = Failure(Failure("--join expects HOST:PORT, got 'x'", status: .scriptError, program: "mrsh worker"))
        #expect(worker.line == "mrsh worker: error: --join expects HOST:PORT, got 'x'\n")
        #expect(worker.status.rawValue == 2)
    }

    @Test func everyDefaultComesFromJobSettings() throws {
        let defaults = JobSettings.defaults
        let engine = EngineOptions(workers: 2)
        #expect(engine.splitSize == defaults.splitSize)
        #expect(engine.memoryBudget == defaults.memoryBudget)
        #expect(engine.maxAttempts == defaults.maxAttempts)
        #expect(engine.backupTasks == defaults.backupTasks)
        #expect(engine.badRecords == (defaults.skipBadRecords ? .skip : .fail))
        #expect(engine.autoReducers == (defaults.reducers == nil))
        #expect(EngineOptions(workers: 2, settings: defaults).splitSize == engine.splitSize)
        // A client that sends no settings, or only some, gets the same defaults.
        let decoded = try JSONDecoder().decode(JobSettings.self, from: Data("{}".utf8))
        #expect(decoded == defaults)
        let roundTrip = try JSONDecoder().decode(JobSettings.self, from: JSONEncoder().encode(JobSettings(reducers: 5, maxAttempts: 7)))
        #expect(roundTrip == JobSettings(reducers: 5, maxAttempts: 7))
        let heartbeats = JobSettings.heartbeats(timeout: .seconds(2))
        #expect(heartbeats.interval == .milliseconds(500))
        #expect(JobSettings.heartbeats(timeout: .seconds(10)).interval == defaults.heartbeatInterval)
    }
}

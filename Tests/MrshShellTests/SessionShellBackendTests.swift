import Foundation
import MrshDataPath
import MrshControl
import MrshPlan
import Synchronization
import Testing
@testable import MrshShell

/// A job runner on the in-process engine, or one that blocks until its task is cancelled.
final class ScriptedRunner: JobRunner {
    let blocks: Bool
    let engine: Engine?
    let started: AsyncStream<Void>
    private let startedContinuation: AsyncStream<Void>.Continuation
    /// The settings of the last job run.
    let lastSettings = Mutex<JobSettings?>(nil)

    init(blocks: Bool) throws {
        self.blocks = blocks
        engine = blocks ? nil : try Engine(options: EngineOptions(workers: 1))
        (started, startedContinuation) = AsyncStream<Void>.makeStream()
    }

    deinit { engine?.shutdown() }

    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        lastSettings.withLock { $0 = settings }
        startedContinuation.yield()
        if blocks {
            while !Task.isCancelled { await Task.yield() }
            throw CancellationError()
        }
        guard let engine else { throw CancellationError() }
        return try await engine.run(plan, standardInput: standardInput, output: output, progress: progress)
    }
}

@Suite struct SessionShellBackendTests {
    func makeOutput() -> (ReplOutput, TerminalWriter, TerminalWriter) {
        let out = TerminalWriter(capturing: ())
        let err = TerminalWriter(capturing: ())
        let presentation = ReplOutput.Presentation(
            table: true, limit: 10, width: nil, style: Style(enabled: false), errorStyle: Style(enabled: false),
            progress: false, quiet: true)
        return (ReplOutput(presentation, out: out, err: err), out, err)
    }

    @Test func runsStatementsAndKeepsBindings() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-shell-\(UUID().uuidString).txt").path
        try "a\t1\nb\t2\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
        let (output, out, _) = makeOutput()
        let cancellation = CancellationFlag()
        #expect(await backend.execute("let x = read \"\(path)\"", sourceName: "t", output: output, cancellation: cancellation) == .success)
        #expect(await backend.bindingNames() == ["x"])
        #expect(await backend.execute("x | take 5", sourceName: "t", output: output, cancellation: cancellation) == .success)
        output.finish(cancelled: false)
        #expect(out.capturedText == "a  1\nb  2\n")
    }

    @Test func scriptErrorsAreReportedWithStatus2() async throws {
        let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
        let (output, _, err) = makeOutput()
        let status = await backend.execute("read x | reduse count", sourceName: "t", output: output, cancellation: CancellationFlag())
        #expect(status == .failed(exitStatus: 2))
        #expect(err.capturedText.contains("did you mean 'reduce'?"))
    }

    @Test func setOptionValidatesReducers() async throws {
        let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
        #expect(await backend.setOption("reducers", to: "0") != nil)
        #expect(await backend.setOption("reducers", to: "7") == nil)
        #expect(await backend.options().first { $0.name == "reducers" }?.value == "7")
    }

    @Test func setOptionsReachTheNextJob() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-shell-\(UUID().uuidString).txt").path
        try "a\t1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let runner = try ScriptedRunner(blocks: false)
        let backend = SessionShellBackend(runner: runner, options: SessionOptions(defaultReducers: 2))
        #expect(await backend.setOption("split-size", to: "4K") == nil)
        #expect(await backend.setOption("memory", to: "1M") == nil)
        #expect(await backend.setOption("backup-tasks", to: "off") == nil)
        #expect(await backend.setOption("reducers", to: "5") == nil)
        #expect(await backend.setOption("split-size", to: "lots") != nil)
        #expect(await backend.setOption("memory", to: "1K") != nil)
        #expect(await backend.setOption("backup-tasks", to: "maybe") != nil)
        #expect(await backend.options().first { $0.name == "split-size" }?.value == "4K")
        let (output, _, _) = makeOutput()
        #expect(await backend.execute("read \"\(path)\" | count", sourceName: "t", output: output, cancellation: CancellationFlag()) == .success)
        let settings = runner.lastSettings.withLock { $0 }
        #expect(settings == JobSettings(reducers: 5, splitSize: 4096, memoryBudget: 1 << 20, backupTasks: false))
    }

    @Test func cancellationStopsTheRunningJob() async throws {
        let runner = try ScriptedRunner(blocks: true)
        let backend = SessionShellBackend(runner: runner, options: SessionOptions(defaultReducers: 2))
        let (output, _, err) = makeOutput()
        let cancellation = CancellationFlag()
        async let status = backend.execute("read \"in.txt\" | count", sourceName: "t", output: output, cancellation: cancellation)
        for await _ in runner.started { break }
        cancellation.cancel()
        #expect(await status == .cancelled)
        #expect(!err.capturedText.contains("error"))
    }
}

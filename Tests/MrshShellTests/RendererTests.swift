import Foundation
import MrshControl
import MrshDataPath
import MrshPlan
import MrshTestSupport
import Synchronization
import Testing
@testable import MrshShell

/// One renderer of messages and exit statuses (`Failure`), used by the REPL as by scripts and commands.
@Suite struct RendererTests {
    @Test func statusesAreDecidedInOnePlace() {
        #expect(ExecutionStatus.success.rawValue == 0)
        #expect(ExecutionStatus.runtimeError.rawValue == 1)
        #expect(ExecutionStatus.scriptError.rawValue == 2)
        #expect(ExecutionStatus(endedBy: SIGINT).rawValue == 130)
        #expect(ExecutionStatus(endedBy: SIGTERM).rawValue == 143)
        #expect(ExecutionStatus.terminated.signal == SIGTERM)
        #expect(ExecutionStatus.scriptError.signal == nil)
    }

    @Test func everyKindOfErrorHasItsMessageAndStatus() {
        #expect(Failure(EngineError.cancelled).message == "job cancelled")
        #expect(Failure(EngineError.invalid("bad")).status == .scriptError)
        #expect(Failure(EngineError.failed("lost")).line == "mrsh: error: lost\n")
        #expect(Failure(OperatorError("empty separator")).status == .scriptError)
        #expect(Failure(EngineError.failed("x"), program: "mrsh worker").line == "mrsh worker: error: x\n")
        // Shown already: only the status is left.
        #expect(Failure.exit(.runtimeError).line == "")
        #expect(Failure(Failure.exit(.scriptError)).status == .scriptError)
        // The argument parser's words, as they are.
        let usage = Failure.usage("Error: Missing expected argument '<file.mr>'\nUsage: mrsh run <file.mr>", helpRequested: false)
        #expect(usage.status == .scriptError)
        #expect(usage.line == "Error: Missing expected argument '<file.mr>'\nUsage: mrsh run <file.mr>\n")
        #expect(Failure.usage("OVERVIEW: ...", helpRequested: true).status == .success)
    }

    @Test func theReplShowsErrorsThroughTheRenderer() async {
        let out = TerminalWriter(capturing: ())
        let err = TerminalWriter(capturing: ())
        let repl = Repl(
            backend: FakeBackend(), configuration: ShellConfiguration(interactive: false, environment: [:]), out: out, err: err)
        #expect(await repl.dispatch("hlep") == .failed(ExecutionStatus.scriptError.rawValue))
        #expect(await repl.dispatch("set reducers many") == .failed(2))
        let lines = err.capturedText.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("mrsh: error: ") }, "\(lines)")
    }

    @Test func aFailedJobInTheReplSaysWhatAScriptSays() async throws {
        let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
        let err = TerminalWriter(capturing: ())
        let output = ReplOutput(
            ReplOutput.Presentation(
                table: false, limit: 10, width: nil, style: Style(enabled: false), errorStyle: Style(enabled: false),
                progress: false, quiet: true),
            out: TerminalWriter(capturing: ()), err: err)
        let status = await backend.execute(
            #"read "/nonexistent-mrsh/*.txt""#, sourceName: "t", output: output, cancellation: CancellationFlag())
        #expect(status == .failed(exitStatus: 2))
        #expect(err.capturedText == Failure(EngineError.noMatch(pattern: "/nonexistent-mrsh/*.txt")).line)
    }

    @Test func noSettingHasASecondDefault() async throws {
        let defaults = JobSettings.defaults
        #expect(SessionOptions(defaultReducers: 4).settings == defaults)
        #expect(EngineOptions(workers: 2).settings == defaults)
        let runner = try ScriptedRunner(blocks: false)
        let backend = SessionShellBackend(runner: runner, options: SessionOptions(defaultReducers: 4))
        // What `:set` shows before anything was set is the defaults.
        let shown = Dictionary(uniqueKeysWithValues: await backend.options().map { ($0.name, $0.value) })
        #expect(shown["split-size"] == ByteSize.format(defaults.splitSize))
        #expect(shown["memory"] == ByteSize.format(Int64(defaults.memoryBudget)))
        #expect(shown["backup-tasks"] == (defaults.backupTasks ? "on" : "off"))
        #expect(shown["reducers"] == "4")
        // And a job of the shell runs with exactly them.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-defaults-\(UUID().uuidString).txt").path
        try "a\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = ReplOutput(
            ReplOutput.Presentation(
                table: false, limit: 10, width: nil, style: Style(enabled: false), errorStyle: Style(enabled: false),
                progress: false, quiet: true),
            out: TerminalWriter(capturing: ()), err: TerminalWriter(capturing: ()))
        #expect(await backend.execute("read \"\(path)\" | count", sourceName: "t", output: output, cancellation: CancellationFlag()) == .success)
        #expect(runner.lastSettings.withLock { $0 } == defaults)
    }
}

/// The shell's plain records go to their descriptor from a writer thread: a standard output that does not
/// drain holds the job back without blocking a cooperative thread, and Ctrl-C still cancels it.
@Suite struct ShellRecordWriterTests {
    static func plainOutput(to fd: Int32) -> ReplOutput {
        ReplOutput(
            ReplOutput.Presentation(
                table: false, limit: 10, width: nil, style: Style(enabled: false), errorStyle: Style(enabled: false),
                progress: false, quiet: true),
            out: TerminalWriter(fd: fd), err: TerminalWriter(capturing: ()))
    }

    static func input(lines: Int) throws -> (path: String, text: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-writer-\(UUID().uuidString).txt").path
        let text = (0..<lines).map { "line \($0) of some text to print back" }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, text)
    }

    @Test func plainRecordsReachTheirDescriptorInOrder() async throws {
        BrokenPipes.ignore()
        let (path, text) = try Self.input(lines: 50_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let collected = ByteCollector()
        let reader = fds[0]
        let done = Thread.detach {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                collected.append(buffer[0..<n])
            }
        }
        let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
        let output = Self.plainOutput(to: fds[1])
        #expect(output.recordsDescriptor == fds[1])
        let status = await backend.execute("read \"\(path)\"", sourceName: "t", output: output, cancellation: CancellationFlag())
        #expect(status == .success)
        close(fds[1])
        await done.value
        #expect(String(decoding: collected.bytes, as: UTF8.self) == text)
    }

    @Test(.timeLimit(.minutes(1))) func ctrlCCancelsAJobWhoseOutputNobodyReads() async throws {
        BrokenPipes.ignore()
        let (path, _) = try Self.input(lines: 200_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            // The read end first: the writer thread's stuck write then fails (EPIPE) and the thread ends.
            close(fds[0])
            usleep(100_000)
            close(fds[1])
        }
        let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
        let cancellation = CancellationFlag()
        let output = Self.plainOutput(to: fds[1])
        async let status = backend.execute("read \"\(path)\"", sourceName: "t", output: output, cancellation: cancellation)
        // The pipe (64 KiB) fills at once and nobody reads it: the job is held back, the writer thread is stuck.
        try await Task.sleep(for: .seconds(1))
        let cancelledAt = ContinuousClock.now
        cancellation.cancel()
        #expect(await status == .cancelled)
        // Generous for a loaded machine: a write that held the job's thread would never end at all.
        #expect(ContinuousClock.now - cancelledAt < .seconds(15))
    }
}

/// Bytes appended by one thread and read by another.
final class ByteCollector: Sendable {
    private let storage = Mutex<[UInt8]>([])
    func append(_ chunk: ArraySlice<UInt8>) { storage.withLock { $0.append(contentsOf: chunk) } }
    var bytes: [UInt8] { storage.withLock { $0 } }
}

extension Thread {
    /// Runs `body` on a new thread; the task's value is ready when it returns.
    static func detach(_ body: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        Thread.detachNewThread {
            body()
            continuation.finish()
        }
        return Task { for await _ in stream {} }
    }
}

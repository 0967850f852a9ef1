import Foundation
import MrshEngine
import MrshPlan
import MrshShell

/// Wires the CLI's options to a job runner, a console and a session: the only place that decides
/// between the embedded engine and a remote cluster.
struct Launcher {
    var options: GlobalOptions

    /// Runs a script or a one-shot statement; returns the exit status.
    func runScript(_ source: String, sourceName: String, scriptFromStandardInput: Bool = false) async -> Int32 {
        let console = StandardConsole(liveProgress: isatty(2) == 1 && !options.quiet)
        guard let runner = await makeRunner(console: console) else { return 1 }
        defer { runner.shutdown() }
        let session = Session(runner: runner.jobs, options: sessionOptions, console: console)
        let output = FileDescriptorSink()
        // A pipeline without `read` reads standard input, unless the script itself came from there.
        let standardInput: Int32? = scriptFromStandardInput ? nil : 0
        var status = await session.execute(source, sourceName: sourceName, output: output, standardInput: standardInput)
        do {
            try output.flush()
        } catch {
            console.error("\(error)")
            status = .runtimeError
        }
        return status.rawValue
    }

    /// The interactive shell on a terminal; a script read from standard input otherwise.
    func runShell() async -> Int32 {
        let source = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        return await runScript(source, sourceName: "<stdin>", scriptFromStandardInput: true)
    }

    var sessionOptions: SessionOptions {
        SessionOptions(reducers: engineOptions.reducers, showSummary: !options.quiet, useColor: false)
    }

    var engineOptions: EngineOptions {
        EngineOptions(
            workers: options.workers ?? EngineOptions.cores,
            reducers: options.reducers,
            splitSize: options.splitSize.map { Int64($0.bytes) } ?? 32 << 20,
            memoryBudget: options.memory?.bytes ?? 64 << 20
        )
    }

    /// The embedded engine (tasks on threads of this process for now).
    func makeRunner(console: StandardConsole) async -> RunnerHandle? {
        do {
            let engine = try Engine(options: engineOptions)
            return RunnerHandle(jobs: EngineRunner(engine: engine), shutdown: { engine.shutdown() })
        } catch {
            console.error("cannot start the engine: \(error)")
            return nil
        }
    }
}

/// A job runner and how to stop it.
struct RunnerHandle {
    var jobs: any JobRunner
    var shutdown: () -> Void
}

/// The in-process engine as a session's job runner.
final class EngineRunner: JobRunner {
    let engine: Engine
    init(engine: Engine) { self.engine = engine }

    func run(
        _ plan: JobPlan, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        try await engine.run(plan, standardInput: standardInput, output: output, progress: progress)
    }
}

import MrshEngine
import MrshPlan
import Synchronization

/// The session core as the REPL's backend.
///
/// It builds the `Session` on a console and a job runner of its own: the console sends messages to the
/// `ShellOutput` of the statement running now, and the runner runs each job in a task that the
/// statement's `StatementCancellation` (Ctrl-C) cancels; the engine then cancels it on every worker.
public final class SessionShellBackend: ShellBackend {
    public let session: Session
    private let console: ForwardingConsole
    private let listWorkers: @Sendable () async -> [ShellWorker]

    /// - Parameters:
    ///   - runner: runs the jobs (the embedded engine or a cluster's coordinator).
    ///   - workers: the rows of `:workers`.
    public init(
        runner: any JobRunner, options: SessionOptions,
        workers: @escaping @Sendable () async -> [ShellWorker] = { [] }
    ) {
        let console = ForwardingConsole()
        self.console = console
        session = Session(runner: CancellableRunner(base: runner), options: options, console: console)
        listWorkers = workers
    }

    public func execute(
        _ source: String, sourceName: String, output: any ShellOutput, cancellation: StatementCancellation
    ) async -> ShellStatus {
        console.current.withLock { $0 = (output, cancellation) }
        defer { console.current.withLock { $0 = nil } }
        let sink = StatementSink(output: output, cancellation: cancellation)
        let status = await session.execute(source, sourceName: sourceName, output: sink, standardInput: nil)
        if cancellation.isCancelled { return .cancelled }
        if sink.sawRun.load(ordering: .relaxed) { output.endOfRecords() }
        return status == .success ? .success : .failed(exitStatus: status.rawValue)
    }

    public func bindingNames() async -> [String] { session.bindingNames }

    public func options() async -> [ShellOption] {
        [ShellOption(name: "reducers", value: String(session.options.reducers), summary: "reduce tasks per shuffle")]
    }

    public func setOption(_ name: String, to value: String) async -> ShellOptionError? {
        switch name {
        case "reducers":
            guard let n = Int(value), n >= 1 else {
                return ShellOptionError("reducers must be a whole number, at least 1 (not '\(value)')")
            }
            session.options.reducers = n
            return nil
        default:
            return ShellOptionError("unknown option '\(name)'")
        }
    }

    public func workers() async -> [ShellWorker] { await listWorkers() }
}

/// A `SessionConsole` that sends everything to the statement running now; quiet about the error a
/// cancelled job reports, since the shell says `cancelled` itself.
final class ForwardingConsole: SessionConsole {
    let current = Mutex<(output: any ShellOutput, cancellation: StatementCancellation)?>(nil)

    private var output: (any ShellOutput)? { current.withLock { $0?.output } }

    func diagnostic(_ text: String) { output?.diagnostic(text) }

    func error(_ message: String) {
        guard let (output, cancellation) = current.withLock({ $0 }), !cancellation.isCancelled else { return }
        output.diagnostic("error: " + message)
    }

    func explain(_ text: String) { output?.message(text) }
    func progress(_ progress: JobProgress) { output?.progress(ShellProgress(progress)) }
    func finished(_ summary: JobSummary, show: Bool) {
        if show { output?.summary(SummaryLine.render(summary)) }
    }
}

/// The record sink the shell gives the session: records go to the statement's `ShellOutput`; it is
/// `Sendable`, so `CancellableRunner` can hand it to the job's own task.
final class StatementSink: RecordSink, Sendable {
    let output: any ShellOutput
    let cancellation: StatementCancellation
    /// True once a job ran into this sink (then the shell shows a row count, even of 0 rows).
    let sawRun = Atomic<Bool>(false)

    init(output: any ShellOutput, cancellation: StatementCancellation) {
        self.output = output
        self.cancellation = cancellation
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { output.records(bytes) }
}

/// Runs each job in a task of its own that the statement's cancellation cancels.
final class CancellableRunner: JobRunner {
    let base: any JobRunner

    init(base: any JobRunner) { self.base = base }

    func run(
        _ plan: JobPlan, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        guard let sink = output as? StatementSink else {
            return try await base.run(plan, standardInput: standardInput, output: output, progress: progress)
        }
        if plan.jobs.last?.output == .standardOutput { sink.sawRun.store(true, ordering: .relaxed) }
        let base = self.base
        let job = Task { try await base.run(plan, standardInput: standardInput, output: sink, progress: progress) }
        sink.cancellation.onCancel { job.cancel() }
        return try await withTaskCancellationHandler {
            try await job.value
        } onCancel: {
            job.cancel()
        }
    }
}

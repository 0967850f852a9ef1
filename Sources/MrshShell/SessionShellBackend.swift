import MrshDataPath
import MrshControl
import MrshPlan
import Synchronization

/// The session core as the REPL's backend.
///
/// It builds the `Session` on a console and a job runner of its own: the console sends messages to the
/// `ShellOutput` of the statement running now, and the runner runs each job in a task that the
/// statement's `CancellationFlag` (Ctrl-C) cancels; the engine then cancels it on every worker.
public final class SessionShellBackend: ShellBackend {
    public let session: Session
    private let console: ForwardingConsole
    private let listWorkers: @Sendable () async -> [ShellWorker]
    private let report: (@Sendable (String) async -> Failure?)?
    private let login: (@Sendable () async -> String?)?

    /// - Parameters:
    ///   - runner: runs the jobs (the embedded engine or a cluster's coordinator).
    ///   - workers: the rows of `:workers`.
    ///   - report: writes the last job's report to a path (`:report`); nil: none.
    ///   - login: a new one-time login link of the status page (`:login`); nil or nil result: no page.
    public init(
        runner: any JobRunner, options: SessionOptions,
        workers: @escaping @Sendable () async -> [ShellWorker] = { [] },
        report: (@Sendable (String) async -> Failure?)? = nil,
        login: (@Sendable () async -> String?)? = nil
    ) {
        self.report = report
        self.login = login
        let console = ForwardingConsole(verbose: options.verboseSummary)
        self.console = console
        session = Session(runner: CancellableRunner(base: runner), options: options, console: console)
        listWorkers = workers
    }

    public func execute(
        _ source: String, sourceName: String, output: any ShellOutput, cancellation: CancellationFlag
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

    public func fieldNames() async -> @Sendable (String) -> [String] { session.fieldNames }

    public func options() async -> [ShellOption] {
        let options = session.options
        return [
            ShellOption(name: "reducers", value: String(options.reducers), summary: "reduce tasks per shuffle"),
            ShellOption(
                name: "split-size", value: ByteSize.format(options.settings.splitSize),
                summary: "input bytes per map task (e.g. 32M)"),
            ShellOption(
                name: "memory", value: ByteSize.format(Int64(options.settings.memoryBudget)),
                summary: "bytes a task buffers before spilling a sorted run (e.g. 64M)"),
            ShellOption(
                name: "broadcast-limit", value: ByteSize.format(options.settings.broadcastLimit),
                summary: "a join whose right side is at most this size is broadcast (e.g. 64M)"),
            ShellOption(
                name: "backup-tasks", value: options.settings.backupTasks ? "on" : "off",
                summary: "start backup attempts near the end of a phase (on/off)"),
        ]
    }

    public func setOption(_ name: String, to value: String) async -> Failure? {
        switch name {
        case "reducers":
            guard let n = Int(value), n >= 1 else {
                return Failure("reducers must be a whole number, at least 1 (not '\(value)')", status: .scriptError)
            }
            session.options.settings.reducers = n
            return nil
        case "split-size":
            guard let bytes = ByteSize.parse(value), bytes >= 1 else {
                return Failure("split-size takes a size such as 4M, 32M or 1G (not '\(value)')", status: .scriptError)
            }
            session.options.settings.splitSize = bytes
            return nil
        case "memory":
            guard let bytes = ByteSize.parse(value), bytes >= 64 << 10 else {
                return Failure("memory takes a size of at least 64K, such as 64M (not '\(value)')", status: .scriptError)
            }
            session.options.settings.memoryBudget = Int(bytes)
            return nil
        case "broadcast-limit":
            guard let bytes = ByteSize.parse(value) else {
                return Failure("broadcast-limit takes a size such as 0, 64M or 1G (not '\(value)')", status: .scriptError)
            }
            session.options.settings.broadcastLimit = bytes
            return nil
        case "backup-tasks":
            switch value {
            case "on", "true", "yes": session.options.settings.backupTasks = true
            case "off", "false", "no": session.options.settings.backupTasks = false
            default: return Failure("backup-tasks is on or off (not '\(value)')", status: .scriptError)
            }
            return nil
        default:
            return Failure("unknown option '\(name)'", status: .scriptError)
        }
    }

    public func workers() async -> [ShellWorker] { await listWorkers() }

    public func writeReport(to path: String) async -> Failure? {
        guard let report else { return Failure("reports are not available here", status: .runtimeError) }
        return await report(path)
    }

    static let noStatusPage = Failure(
        "no status page here: start the shell with --status-listen HOST:PORT (a cluster's page is its coordinator's)",
        status: .runtimeError)

    public func newLoginLink() async -> Result<String, Failure> {
        guard let url = await login?() else { return .failure(Self.noStatusPage) }
        return .success(url)
    }
}

/// A `SessionConsole` that sends everything to the statement running now; quiet about the error a
/// cancelled job reports, since the shell says `cancelled` itself.
final class ForwardingConsole: SessionConsole {
    let current = Mutex<(output: any ShellOutput, cancellation: CancellationFlag)?>(nil)
    /// Add the counters to the summary line.
    let verbose: Bool

    init(verbose: Bool = false) {
        self.verbose = verbose
    }

    private var output: (any ShellOutput)? { current.withLock { $0?.output } }

    func diagnostic(_ text: String) { output?.diagnostic(text) }

    func error(_ failure: Failure) {
        guard let (output, cancellation) = current.withLock({ $0 }), !cancellation.isCancelled else { return }
        output.diagnostic(failure.line)
    }

    func explain(_ text: String) { output?.message(text) }
    func progress(_ progress: JobProgress) { output?.progress(progress) }
    func finished(_ summary: JobSummary, show: Bool) {
        if show { output?.summary(summary.description(verbose: verbose)) }
    }
}

/// The record sink the shell gives the session: records go to the statement's `ShellOutput`, or, when it
/// asks for plain records on a descriptor, to a `StandardOutputSink` writing there from a thread of its own;
/// it is `Sendable`, so `CancellableRunner` can hand it to the job's own task.
final class StatementSink: RecordSink, FieldNamedSink, Sendable {
    let output: any ShellOutput
    let cancellation: CancellationFlag
    /// True once a job ran into this sink (then the shell shows a row count, even of 0 rows).
    let sawRun = Atomic<Bool>(false)
    /// The writer of plain records (nil: records go to `output`).
    let direct: StandardOutputSink?

    init(output: any ShellOutput, cancellation: CancellationFlag) {
        self.output = output
        self.cancellation = cancellation
        direct = output.recordsDescriptor.map { StandardOutputSink(descriptor: $0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let direct { return try direct.write(bytes) }
        output.records(bytes)
    }

    func beginRecords(fieldNames: [String]?) {
        output.fieldNames(fieldNames)
    }

    func awaitCapacity() async throws { try await direct?.awaitCapacity() }

    /// Waits until a job's records are written, so that what the statement says next comes after them; the
    /// calling task's cancellation (Ctrl-C) ends the wait and drops the rest.
    func finishRecords() async throws {
        guard let direct else { return }
        do {
            try await direct.finish()
        } catch {
            direct.abandon()
            throw error
        }
    }
}

/// Runs each job in a task of its own that the statement's cancellation cancels.
final class CancellableRunner: JobRunner {
    let base: any JobRunner

    init(base: any JobRunner) { self.base = base }

    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        guard let sink = output as? StatementSink else {
            return try await base.run(
                plan, settings: settings, standardInput: standardInput, output: output, progress: progress)
        }
        if plan.jobs.last?.output == .standardOutput { sink.sawRun.store(true, ordering: .relaxed) }
        let base = self.base
        let job = Task {
            do {
                let summary = try await base.run(
                    plan, settings: settings, standardInput: standardInput, output: sink, progress: progress)
                try await sink.finishRecords()
                return summary
            } catch {
                // The records before a failure are shown; a cancelled job's are dropped.
                try? await sink.finishRecords()
                throw error
            }
        }
        sink.cancellation.onCancel { job.cancel() }
        return try await withTaskCancellationHandler {
            try await job.value
        } onCancel: {
            job.cancel()
        }
    }
}

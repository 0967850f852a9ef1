import MrshDataPath
import MrshControl
import MrshPlan

/// What the REPL needs from the session core (the lead's `Session` conforms to it).
///
/// The REPL owns prompts, history, completion and how results look; the backend parses and runs
/// statements (`let`, `explain`, pipelines) and keeps `let` bindings. The REPL calls it from one task
/// at a time, so a backend need not be `Sendable` (`SessionShellBackend` wraps the session core).
public protocol ShellBackend: AnyObject {
    /// Parses and runs `source` (one or more statements), stopping at the first failing statement.
    ///
    /// Records, messages, progress and diagnostics (with carets, naming `sourceName`) go to `output`.
    /// When `cancellation` fires (Ctrl-C), the backend cancels the running job on every worker and
    /// returns `.cancelled` promptly.
    func execute(
        _ source: String, sourceName: String, output: any ShellOutput, cancellation: CancellationFlag
    ) async -> ShellStatus

    /// The names bound with `let` so far, for completion and `:describe`.
    func bindingNames() async -> [String]

    /// For completion: the field names after a pipeline's text, as the backend's bindings know them.
    func fieldNames() async -> @Sendable (String) -> [String]

    /// The engine options `:set` lists and changes (reducers, split-size, memory, broadcast-limit, backup-tasks).
    func options() async -> [ShellOption]

    /// Changes one option; `value` is as typed. Returns what to tell the user (a script error) when the name or
    /// value is wrong.
    func setOption(_ name: String, to value: String) async -> Failure?

    /// The cluster's workers for `:workers` (the embedded engine's local executors when not on a cluster).
    func workers() async -> [ShellWorker]

    /// Writes the last job's report (`:report FILE.html`); returns what to tell the user when it cannot.
    func writeReport(to path: String) async -> Failure?

    /// A new one-time login link of the status page (`:login`), or what to tell the user when there is none.
    func newLoginLink() async -> Result<String, Failure>
}

extension ShellBackend {
    public func fieldNames() async -> @Sendable (String) -> [String] { { _ in [] } }
    public func writeReport(to path: String) async -> Failure? {
        Failure("reports are not available here", status: .runtimeError)
    }
    public func newLoginLink() async -> Result<String, Failure> {
        .failure(SessionShellBackend.noStatusPage)
    }
}

/// How a statement ended.
public enum ShellStatus: Sendable, Hashable {
    case success
    /// The statement failed; the diagnostic went to the output. `exitStatus` is what a script ends with
    /// (for example 2 for a script error, 1 for a runtime error).
    case failed(exitStatus: Int32)
    /// Ctrl-C: the job was cancelled.
    case cancelled
}

/// Where a statement's results go. Called from any thread; conformers synchronize.
public protocol ShellOutput: Sendable {
    /// One or more complete records, each `field<TAB>field...` ended by `\n`.
    func records(_ bytes: UnsafeRawBufferPointer)
    /// The statement's records are complete (called once per pipeline that prints records, even when
    /// there were none, so the shell can say `0 rows`; not called for `let`, `explain` or `write`).
    func endOfRecords()
    /// Text for the user on standard output (the plan of `explain`, `bound NAME`), ended by `\n` if multi-line.
    func message(_ text: String)
    /// A rendered error (with carets for script errors), shown on standard error.
    func diagnostic(_ text: String)
    /// How far the running job is; the REPL shows it as a live line on a terminal.
    func progress(_ progress: JobProgress)
    /// One line after a job: time, tasks, bytes (shown dimmed on standard error unless quiet).
    func summary(_ text: String)
    /// When records are to be copied as they are to a file descriptor (plain output), that descriptor: the
    /// backend then writes them there itself, from a thread of its own (`StandardOutputSink`), and finishes
    /// each job's records before the next message. nil (the default): records go to `records(_:)`.
    var recordsDescriptor: Int32? { get }
    /// The names of the fields of the records that follow (nil: not all named), before a pipeline's records:
    /// the table's header row, CSV's header, JSON's keys.
    func fieldNames(_ names: [String]?)
}

extension ShellOutput {
    public var recordsDescriptor: Int32? { nil }
    public func fieldNames(_ names: [String]?) {}
}

/// One option of `:set`.
public struct ShellOption: Sendable, Hashable {
    public var name: String
    /// The current value as the user would type it (`4`, `32M`, `on`), or `default (4)`.
    public var value: String
    public var summary: String

    public init(name: String, value: String, summary: String) {
        self.name = name
        self.value = value
        self.summary = summary
    }
}

/// One row of `:workers`.
public struct ShellWorker: Sendable, Hashable {
    public var name: String
    /// e.g. `idle`, `busy`, `lost`, `local`.
    public var state: String
    /// Task attempts running now.
    public var running: Int
    /// Task attempts finished since the worker joined.
    public var completed: Int
    /// Optional detail, e.g. `map 3 of job 1`, the host, the slots.
    public var detail: String

    public init(name: String, state: String, running: Int, completed: Int, detail: String = "") {
        self.name = name
        self.state = state
        self.running = running
        self.completed = completed
        self.detail = detail
    }
}

import MrshDataPath
import MrshControl
import MrshPlan

/// Runs job plans for a session: the embedded engine, or a coordinator of a cluster.
public protocol JobRunner: AnyObject, Sendable {
    /// Checks the plan (inputs exist, output directory is free) and runs it with `settings` (the session's,
    /// after `:set`); final records go to `output`.
    /// Throws `EngineError` (validation errors mean nothing ran) or `CancellationError`.
    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary
}

/// Where a session's messages go: diagnostics, errors, `explain` text, progress and job summaries.
/// The CLI prints them plainly; the REPL draws a live progress line and colours.
public protocol SessionConsole: Sendable {
    /// A rendered script diagnostic (with its caret lines).
    func diagnostic(_ text: String)
    /// A failure to show (rendered by `Failure`: `mrsh: error: ...`).
    func error(_ failure: Failure)
    /// The task graph printed by `explain`.
    func explain(_ text: String)
    /// Called as tasks finish; may be called from any thread.
    func progress(_ progress: JobProgress)
    /// A job finished; `show` is false when summaries are turned off.
    func finished(_ summary: JobSummary, show: Bool)
}

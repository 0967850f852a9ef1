import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire

/// What a coordinator runs plans with: the engine's job coordinator over remote executors
/// (`EnginePlanRunner`), or a fake in tests.
public protocol ClusterPlanRunner: Sendable {
    /// Runs one submitted plan. `standardInput` is a readable file descriptor of the client's standard input
    /// (spooled on the coordinator) when the plan reads it. Output records go to `output`.
    func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        fetcher: any BlobFetcher, output: ClientOutput, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport

    /// `run` with a source of workers that join while the plan runs.
    func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        source: (any ExecutorSource)?, fetcher: any BlobFetcher, output: ClientOutput,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport

    /// `run` with a journal (a coordinator with a state directory): the run's decisions and results go to it,
    /// and a resumed run reads them back.
    func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        source: (any ExecutorSource)?, fetcher: any BlobFetcher, output: ClientOutput,
        progress: @escaping @Sendable (JobProgress) -> Void, journal: (any RunJournal)?
    ) async throws -> RunReport

    /// Resolves a blob of the coordinator's own store (holder `.local` or `.coordinator`) for its shuffle server.
    func resolve(_ request: FetchRequest) async throws -> LocalBytes
}

extension ClusterPlanRunner {
    /// Runners that cannot journal ignore the journal.
    public func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        source: (any ExecutorSource)?, fetcher: any BlobFetcher, output: ClientOutput,
        progress: @escaping @Sendable (JobProgress) -> Void, journal: (any RunJournal)?
    ) async throws -> RunReport {
        try await self.run(
            submission, run: run, standardInput: standardInput, executors: executors, source: source, fetcher: fetcher,
            output: output, progress: progress)
    }

    /// Runners that cannot use late workers ignore the source.
    public func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        source: (any ExecutorSource)?, fetcher: any BlobFetcher, output: ClientOutput,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport {
        try await self.run(
            submission, run: run, standardInput: standardInput, executors: executors, fetcher: fetcher, output: output,
            progress: progress)
    }
}

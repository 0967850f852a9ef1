import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire

/// What a worker process does with the work it is given: the engine's task runners over the worker's local
/// store (`EngineTaskHandler`), or a fake in tests.
///
/// Blob locations use the engine's in-process convention: a blob this worker made has holder `.local` and an
/// empty address; the worker rewrites that to its id and shuffle address before reporting.
public protocol WorkerTaskHandler: Sendable {
    func runMap(_ task: MapTaskSpec, fetcher: any BlobFetcher) async throws -> MapTaskResult
    /// `feed` delivers the map outputs that were not known when the attempt started (see `TaskExecutor`).
    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed, fetcher: any BlobFetcher) async throws
        -> ReduceTaskResult
    /// Resolves one of this worker's blobs (or a partition of it) to bytes of a local file.
    func resolve(_ request: FetchRequest) async throws -> LocalBytes
    /// Deletes everything the run left on this worker (its blobs and temporary files).
    func removeRun(_ run: String) async
    /// The map outputs this worker holds, reported when it registers (a restarted coordinator keeps them).
    func heldMapOutputs() -> [BlobID]
}

extension WorkerTaskHandler {
    public func heldMapOutputs() -> [BlobID] { [] }
}

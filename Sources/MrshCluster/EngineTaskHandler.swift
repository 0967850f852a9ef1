import Foundation
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire

/// The worker side of the engine: runs tasks with the engine's `MapTaskRunner` / `ReduceTaskRunner` over this
/// worker's own `BlobStore` (its scratch directory), and serves that store's blobs to the shuffle server.
///
/// Blobs are reported with the engine's in-process holder (`.local`, no address); `WorkerNode` relabels them
/// with the worker's id and shuffle address before they leave the process.
public struct EngineTaskHandler: WorkerTaskHandler {
    public let store: BlobStore
    /// The policy of tasks that do not choose one (`MapTaskSpec.skipBadRecords` nil).
    public let badRecords: BadRecordPolicy
    /// Test hook (`MRSH_TEST_SLOW_WORKER`): milliseconds a map task waits per input record before it
    /// reports, to make a straggler.
    public let slowdown: Double
    /// Whether tasks run `stream` commands (`--allow-stream`), and where their standard error lines go.
    public let stream: StreamContext

    /// Uses (and creates) `scratch` as the worker's blob store.
    public init(
        scratch: String, badRecords: BadRecordPolicy = .fail, slowdown: Double = 0,
        stream: StreamContext = StreamContext(allowed: false)
    ) throws {
        store = try BlobStore(root: scratch)
        self.badRecords = badRecords
        self.slowdown = slowdown
        self.stream = stream
    }

    public func runMap(_ task: MapTaskSpec, fetcher: any BlobFetcher) async throws -> MapTaskResult {
        let policy = task.skipBadRecords.map { $0 ? BadRecordPolicy.skip : .fail } ?? badRecords
        let result = try await MapTaskRunner.run(task, store: store, fetcher: fetcher, badRecords: policy, stream: stream)
        if slowdown > 0 {
            try await Task.sleep(for: .milliseconds(Int64(Double(result.counters.recordsIn) * slowdown)))
        }
        return result
    }

    public func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed, fetcher: any BlobFetcher) async throws
        -> ReduceTaskResult
    {
        try await ReduceTaskRunner.run(
            task, feed: feed, store: store, fetcher: fetcher, badRecords: badRecords, stream: stream)
    }

    public func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        try EngineTaskHandler.resolve(request, in: store)
    }

    /// Deletes the run's blobs and the store's temporary files (fetched copies, spills). Runs are one at a
    /// time per coordinator, and the worker handles `endRun`/`cancelRun` before the next run's tasks.
    public func removeRun(_ run: String) async {
        guard BlobID.isValidRun(run) else { return }
        store.removeRun(run)
        try? FileManager.default.removeItem(atPath: store.root + "/tmp")
    }

    public func heldMapOutputs() -> [BlobID] {
        store.mapOutputs(limit: WorkerInfo.maxHolds)
    }

    /// A blob (or partition of a map-output blob) of `store`, refusing ids that leave the store (a decoded
    /// id never does; one built from a bad run name could).
    static func resolve(_ request: FetchRequest, in store: BlobStore) throws -> LocalBytes {
        guard BlobID.isValidRun(request.blobID.run) else {
            throw EngineError.failed("no such blob '\(request.blobID)'")
        }
        return try LocalBlobFetcher(store: store).resolve(request.blobID, partition: request.partition)
    }
}

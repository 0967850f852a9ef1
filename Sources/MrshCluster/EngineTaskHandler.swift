import Glibc
import MrshEngine
import MrshPlan
import MrshWire

/// The worker side of the engine: runs tasks with the engine's runners over this worker's scratch store.
///
/// Until MrshEngine's `MapTaskRunner`/`ReduceTaskRunner` are merged, tasks fail with a clear message and only
/// whole blobs (files under the scratch directory) can be served.
public struct EngineTaskHandler: WorkerTaskHandler {
    public let scratch: String

    public init(scratch: String) {
        self.scratch = scratch
    }

    public func runMap(_ task: MapTaskSpec, fetcher: any BlobFetcher) async throws -> MapTaskResult {
        throw ClusterError("this build has no task runners (the engine is not merged yet)")
    }

    public func runReduce(_ task: ReduceTaskSpec, fetcher: any BlobFetcher) async throws -> ReduceTaskResult {
        throw ClusterError("this build has no task runners (the engine is not merged yet)")
    }

    public func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        guard !request.blobID.contains(".."), request.partition == nil else {
            throw ClusterError("no such blob '\(request.blobID)'")
        }
        let path = scratch + "/" + request.blobID
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError(call: "stat", path: path, errno: errno) }
        return LocalBytes(path: path, range: 0..<Int64(info.st_size), isTemporaryCopy: false)
    }

    public func removeRun(_ run: String) async {}
}

/// The coordinator side of the engine: runs plans with the engine's job coordinator over remote executors.
/// Until MrshEngine's `Engine` is merged, every plan fails with a clear message.
public struct EnginePlanRunner: ClusterPlanRunner {
    public let scratch: String

    public init(scratch: String) {
        self.scratch = scratch
    }

    public func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        fetcher: any BlobFetcher, output: ClientOutput, progress: @escaping @Sendable (ProgressReport) -> Void
    ) async throws -> RunReport {
        throw ClusterError("this build has no job coordinator (the engine is not merged yet)")
    }

    public func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        try await EngineTaskHandler(scratch: scratch).resolve(request)
    }
}

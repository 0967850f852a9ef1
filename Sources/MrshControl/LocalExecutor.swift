import MrshDataPath
import MrshPlan

/// Runs task attempts on threads of this process with the worker-side runners, against a shared
/// `BlobStore` and fetcher.
public struct LocalExecutor: TaskExecutor {
    public let name: String
    public let slots: Int
    public let store: BlobStore
    public let fetcher: any BlobFetcher
    public let badRecords: BadRecordPolicy
    /// `stream` commands run here, their standard error lines going where it says.
    public let stream: StreamContext

    public init(
        name: String, slots: Int = 1, store: BlobStore, fetcher: any BlobFetcher, badRecords: BadRecordPolicy = .fail,
        stream: StreamContext = StreamContext(allowed: true)
    ) {
        self.name = name
        self.slots = max(1, slots)
        self.store = store
        self.fetcher = fetcher
        self.badRecords = badRecords
        self.stream = stream
    }

    public func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        try await MapTaskRunner.run(task, store: store, fetcher: fetcher, badRecords: badRecords, stream: stream)
    }

    public func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        try await ReduceTaskRunner.run(task, feed: feed, store: store, fetcher: fetcher, badRecords: badRecords, stream: stream)
    }
}

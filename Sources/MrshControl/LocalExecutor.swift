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

    public init(name: String, slots: Int = 1, store: BlobStore, fetcher: any BlobFetcher, badRecords: BadRecordPolicy = .fail) {
        self.name = name
        self.slots = max(1, slots)
        self.store = store
        self.fetcher = fetcher
        self.badRecords = badRecords
    }

    public func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        try await MapTaskRunner.run(task, store: store, fetcher: fetcher, badRecords: badRecords)
    }

    public func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        try await ReduceTaskRunner.run(task, feed: feed, store: store, fetcher: fetcher, badRecords: badRecords)
    }
}

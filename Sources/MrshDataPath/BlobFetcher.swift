import MrshPlan

/// Runs task attempts somewhere: on a thread of this process (`LocalExecutor`) or on a worker process
/// over TCP (MrshCluster's remote executor). The coordinator only talks to this protocol.
public protocol TaskExecutor: Sendable {
    /// A stable name for logs and `:workers` (for example "local-0" or a worker id).
    var name: String { get }
    /// How many task attempts this executor runs at the same time.
    var slots: Int { get }
    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult
    /// Runs a reduce attempt that may start before the map phase ends: `task.mapOutputs` holds the map
    /// outputs known at its start, `feed` delivers the others (and new locations of re-executed map tasks)
    /// until the attempt holds one output per map task (`task.mapTaskCount`).
    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult
}

/// Bytes that can be read from this host's disk: a file and a byte range of it.
public struct LocalBytes: Sendable, Hashable {
    public var path: String
    public var range: Range<Int64>
    /// True when the file is a private copy the reader deletes after use.
    public var isTemporaryCopy: Bool
    public init(path: String, range: Range<Int64>, isTemporaryCopy: Bool) {
        self.path = path
        self.range = range
        self.isTemporaryCopy = isTemporaryCopy
    }
}

/// Reads blobs wherever they live. The in-process fetcher resolves a blob to its file in place;
/// the cluster's fetcher downloads it from the holder's shuffle server (checksummed) into `scratch`.
public protocol BlobFetcher: Sendable {
    /// Makes partition `partition` of a map-output blob (or the whole blob when nil) readable locally.
    func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes
}

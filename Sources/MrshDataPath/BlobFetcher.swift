import MrshPlan

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

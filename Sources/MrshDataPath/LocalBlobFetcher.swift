import MrshPlan

/// Resolves blobs of this process's `BlobStore` in place (no copy): a map-output partition is a byte
/// range of its file found through the blob's index.
public struct LocalBlobFetcher: BlobFetcher {
    public let store: BlobStore
    /// Holders this fetcher treats as local.
    public let holders: Set<BlobHolder>

    public init(store: BlobStore, holders: Set<BlobHolder> = [.local]) {
        self.store = store
        self.holders = holders
    }

    public func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        guard holders.contains(blob.holder) else {
            throw EngineError.failed("blob '\(blob.id)' is held by '\(blob.holder)', which this fetcher cannot reach")
        }
        return try resolve(blob.id, partition: partition)
    }

    /// The bytes of blob `id` (or of one partition of it) in this store.
    public func resolve(_ id: BlobID, partition: Int?) throws -> LocalBytes {
        let path = store.path(of: id)
        guard let size = FileIO.size(of: path) else {
            throw EngineError.failed("blob '\(id)' does not exist")
        }
        guard let partition else {
            return LocalBytes(path: path, range: 0..<size, isTemporaryCopy: false)
        }
        let ranges = try MapOutputFormat.readIndex(path: path)
        guard partition >= 0 && partition < ranges.count else {
            throw EngineError.failed("blob '\(id)' has no partition \(partition) (it has \(ranges.count))")
        }
        return LocalBytes(path: path, range: ranges[partition], isTemporaryCopy: false)
    }
}

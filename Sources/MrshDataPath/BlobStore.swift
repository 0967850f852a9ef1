#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MrshPlan

/// A host's scratch directory of blobs (map outputs, reduce parts kept for later jobs, standard-input
/// chunks). A blob lives at its id's path relative to the root (`BlobID.path`: named by run, job, task and
/// attempt), so every attempt writes under its own name; blobs are written under a temporary name and
/// renamed into place when complete.
public struct BlobStore: Sendable {
    public let root: String

    /// Uses (and creates) `root`.
    public init(root: String) throws {
        self.root = root
        try FileIO.makeDirectories(root)
    }

    /// The file of a blob id.
    public func path(of id: BlobID) -> String { root + "/" + id.path }

    /// A fresh temporary path inside the store, for spills and fetched copies (directory created).
    public func temporaryPath(_ hint: String) throws -> String {
        let directory = root + "/tmp"
        try FileIO.makeDirectories(directory)
        return directory + "/" + hint + "-" + BlobStore.uniqueSuffix()
    }

    /// A fresh, empty temporary directory inside the store (for fetched copies); the caller removes it.
    public func temporaryDirectory(_ hint: String) throws -> String {
        let path = try temporaryPath(hint)
        try FileIO.makeDirectories(path)
        return path
    }

    /// Creates the directories of blob `id` and returns a temporary path to write it under.
    public func beginBlob(_ id: BlobID) throws -> String {
        let final = path(of: id)
        try FileIO.makeDirectories(FileIO.parentDirectory(final))
        return final + ".tmp-" + BlobStore.uniqueSuffix()
    }

    /// Renames a blob written at `temporaryPath` (from `beginBlob`) into place.
    public func commitBlob(_ id: BlobID, from temporaryPath: String) throws {
        try FileIO.rename(temporaryPath, path(of: id))
    }

    /// Removes a blob (ignoring a missing one).
    public func remove(_ id: BlobID) {
        FileIO.unlinkQuietly(path(of: id))
    }

    /// Removes every blob of a run.
    public func removeRun(_ run: String) {
        FileIO.removeTree(root + "/" + run)
    }

    /// The map outputs in the store (complete ones: those renamed into place), at most `limit`.
    public func mapOutputs(limit: Int) -> [BlobID] {
        var found: [BlobID] = []
        for run in (try? FileIO.listDirectory(root)) ?? [] where BlobID.isValidRun(run) && run != "tmp" {
            for job in (try? FileIO.listDirectory(root + "/" + run)) ?? [] where job.hasPrefix("j") {
                for name in (try? FileIO.listDirectory(root + "/" + run + "/" + job)) ?? [] where name.hasPrefix("map-") {
                    guard let id = BlobID(path: run + "/" + job + "/" + name), case .mapOutput = id.kind else { continue }
                    found.append(id)
                    if found.count >= limit { return found }
                }
            }
        }
        return found
    }

    /// Removes the whole store directory.
    public func removeAll() {
        FileIO.removeTree(root)
    }

    /// A location for a blob of this store, as a holder reports it.
    public func location(_ id: BlobID, holder: BlobHolder = .local, address: String = "") -> BlobLocation {
        BlobLocation(holder: holder, address: address, id: id)
    }

    package static func uniqueSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }
}

import Glibc
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore

/// Reads blobs wherever they live: blobs of this host in place through `localResolver`, others downloaded
/// from their holder's shuffle server into the scratch directory with every block's checksum verified.
///
/// A failed download (refused, closed, corrupted, silent past the timeout) is retried `attempts` times;
/// then a `BlobFetchError` names the blob, so the coordinator can re-run the task that produced it.
public struct RemoteBlobFetcher: BlobFetcher {
    let group: any EventLoopGroup
    let token: AuthToken
    /// Holders whose blobs are on this host.
    let localHolders: Set<BlobHolder>
    let localResolver: ShuffleServer.Resolver?
    /// Where blobs without an address (holder `.local` or `.coordinator`: the coordinator's own store) are.
    let coordinatorAddress: HostPort?
    let attempts: Int
    /// The silence after which a fetch is abandoned (and retried).
    let timeout: Duration

    public init(
        group: any EventLoopGroup, token: AuthToken, localHolders: Set<BlobHolder>,
        localResolver: ShuffleServer.Resolver?, coordinatorAddress: HostPort?, attempts: Int = 3, timeout: Duration = .seconds(30)
    ) {
        self.group = group
        self.token = token
        self.localHolders = localHolders
        self.localResolver = localResolver
        self.coordinatorAddress = coordinatorAddress
        self.attempts = attempts
        self.timeout = timeout
    }

    public func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        let request = FetchRequest(blobID: blob.id, partition: partition)
        if localHolders.contains(blob.holder), let localResolver {
            return try await localResolver(request)
        }
        let address: HostPort
        if blob.address.isEmpty {
            guard let coordinatorAddress else {
                throw BlobFetchError(blob: blob, cause: "no address for holder '\(blob.holder)'")
            }
            address = coordinatorAddress
        } else {
            guard let parsed = HostPort(blob.address) else {
                throw BlobFetchError(blob: blob, cause: "bad address '\(blob.address)'")
            }
            address = parsed
        }
        var lastError = ""
        for attempt in 0..<max(1, attempts) {
            try Task.checkCancellation()
            if attempt > 0 { try await Task.sleep(for: .milliseconds(100 << min(attempt, 4))) }
            do {
                return try await download(request, from: address, scratch: scratch)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = "\(error)"
                TaskLog.current?.add(
                    "fetch of \(blob.id) from \(address) failed (try \(attempt + 1) of \(max(1, attempts))): \(error)"
                        + (attempt + 1 < max(1, attempts) ? "; trying again" : ""))
            }
        }
        throw BlobFetchError(blob: blob, cause: lastError)
    }

    private func download(_ request: FetchRequest, from address: HostPort, scratch: String) async throws -> LocalBytes {
        let connection = try await FrameClient.connect(to: address, group: group, token: token, role: .fetcher, timeout: timeout)
        defer { Task { await connection.close() } }
        connection.startHeartbeats(HeartbeatSettings(interval: timeout, timeout: timeout))
        // `scratch` is a directory, or (as the engine passes it) a fresh temporary path to use as a prefix.
        var info = stat()
        let isDirectory = stat(scratch, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        let path = scratch + (isDirectory ? "/" : "-") + "fetch-\(UInt64.random(in: 0...UInt64.max))"
        let fd = try sys("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        try await connection.send(.fetch(request))
        var written: Int64 = 0
        for try await frame in connection.inbound {
            if frame.kind == .data {
                let bytes = try DataBlock.verifiedBytes(of: frame)
                try bytes.withUnsafeReadableBytes { raw in try FileIO.writeAll(fd, raw, path: path) }
                written += Int64(bytes.readableBytes)
                continue
            }
            guard case .fetchEnd(let total) = try ControlMessage(frame: frame) else {
                throw WireError.badMessage("expected data blocks or fetchEnd")
            }
            guard total == written else {
                throw WireError.badMessage("fetch ended after \(written) bytes, server sent \(total)")
            }
            ok = true
            return LocalBytes(path: path, range: 0..<written, isTemporaryCopy: true)
        }
        throw WireError.connectionClosed
    }
}

/// A blob could not be fetched from its holder after retries.
public struct BlobFetchError: Error, Sendable, CustomStringConvertible {
    public var blob: BlobLocation
    public var cause: String
    public var description: String {
        "cannot fetch blob '\(blob.id)' from \(blob.holder) (\(blob.address.isEmpty ? "coordinator" : blob.address)): \(cause)"
    }
}

extension BlobFetchError: AttemptFailure {
    public var executorLost: Bool { false }
    public var unavailableBlob: BlobLocation? { blob }
}

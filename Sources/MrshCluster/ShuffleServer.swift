import Glibc
import Logging
import MrshDataPath
import MrshControl
import MrshWire
import NIOCore
import NIOPosix
import Synchronization

/// Serves the blobs of this host (map outputs, parts, standard-input chunks) to fetchers.
///
/// A fetcher connects (role `fetcher`), sends `fetch` requests one at a time; each is answered with the
/// requested bytes as checksummed data blocks and `fetchEnd`, or with an error frame and a close. It counts the
/// bytes of blob data it sent (`bytesServed`: what the workers page and `/metrics` show per worker).
public final class ShuffleServer: Sendable {
    /// Turns a fetch request into bytes of a local file (the engine's local blob resolution).
    public typealias Resolver = @Sendable (FetchRequest) async throws -> LocalBytes

    /// Test hooks (issue 4 builds its chaos tests on them).
    public struct Hooks: Sendable {
        /// Flip one bit in the first data block of every fetch after its checksum was computed.
        public var corruptFirstBlock = false
        /// Stop the whole process (SIGSTOP, as a hung host would) when the first fetch of a map output arrives.
        public var stopOnMapOutputFetch = false
        public init(corruptFirstBlock: Bool = false, stopOnMapOutputFetch: Bool = false) {
            self.corruptFirstBlock = corruptFirstBlock
            self.stopOnMapOutputFetch = stopOnMapOutputFetch
        }
    }

    private let server: FrameServer
    private let served: ServedBytes
    public var address: HostPort { server.address }
    /// Bytes of blob data sent to fetchers since the server started (data blocks written to connections).
    public var bytesServed: Int64 { served.total }

    public static func start(
        host: String, port: Int = 0, group: any EventLoopGroup, token: AuthToken, hooks: Hooks = Hooks(),
        logger: Logger, resolver: @escaping Resolver
    ) async throws -> ShuffleServer {
        let served = ServedBytes()
        let server = try await FrameServer.start(
            host: host, port: port, group: group, token: token, roles: [.fetcher], logger: logger
        ) { connection in
            await serve(connection, resolver: resolver, hooks: hooks, served: served, logger: logger)
        }
        return ShuffleServer(server: server, served: served)
    }

    private init(server: FrameServer, served: ServedBytes) {
        self.server = server
        self.served = served
    }

    public func stop() async {
        await server.stop()
    }

    private static func serve(
        _ connection: FrameConnection, resolver: Resolver, hooks: Hooks, served: ServedBytes, logger: Logger
    ) async {
        do {
            for try await frame in connection.inbound {
                guard case .fetch(let request) = try ControlMessage(frame: frame) else {
                    await connection.fail("protocol error: a shuffle server only answers fetch requests")
                    return
                }
                if hooks.stopOnMapOutputFetch, case .mapOutput = request.blobID.kind { raise(SIGSTOP) }
                let bytes: LocalBytes
                do {
                    bytes = try await resolver(request)
                } catch {
                    logger.info("cannot serve blob '\(request.blobID)' to \(connection.remoteAddress): \(error)")
                    await connection.fail("cannot serve blob '\(request.blobID)': \(Self.peerMessage(error))")
                    return
                }
                let sent = try await stream(bytes, to: connection, hooks: hooks, served: served)
                try await connection.send(.fetchEnd(bytes: sent))
            }
        } catch {
            logger.debug("shuffle connection \(connection.remoteAddress) ended: \(error)")
            await connection.fail(Self.peerMessage(error))
        }
    }

    /// What a peer is told of a failure: never a path of this host (its scratch directory is nobody else's
    /// business); the worker's log has the whole error.
    static func peerMessage(_ error: any Error) -> String {
        if let system = error as? SystemError { return "\(system.call): \(String(cString: strerror(system.errno)))" }
        if error is WireError { return "\(error)" }
        return "the blob is not here or cannot be read (the worker's log says why)"
    }

    /// Sends `bytes` as data blocks; each send waits for the previous block to be written.
    private static func stream(
        _ bytes: LocalBytes, to connection: FrameConnection, hooks: Hooks, served: ServedBytes
    ) async throws -> Int64 {
        let fd = try sys("open", bytes.path) { open(bytes.path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: WireLimits.blockSize)
        var offset = bytes.range.lowerBound
        var first = true
        while offset < bytes.range.upperBound {
            let want = Int(min(Int64(buffer.count), bytes.range.upperBound - offset))
            let got = try buffer.withUnsafeMutableBytes { raw in
                try sys("pread", bytes.path) { pread(fd, raw.baseAddress, want, off_t(offset)) }
            }
            if got == 0 { throw SystemError(call: "pread (file shorter than expected)", subject: bytes.path, errno: EIO) }
            var frame = buffer.withUnsafeBytes { DataBlock.frame(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            if first && hooks.corruptFirstBlock {
                let at = frame.payload.readerIndex + 4
                if let b = frame.payload.getInteger(at: at, as: UInt8.self) { frame.payload.setInteger(b ^ 1, at: at) }
            }
            first = false
            try await connection.send(frame)
            served.add(Int64(got))
            offset += Int64(got)
        }
        return offset - bytes.range.lowerBound
    }
}

/// The running total of a shuffle server's bytes sent (one atomic add per 1 MiB block).
final class ServedBytes: Sendable {
    private let bytes = Atomic<Int64>(0)
    func add(_ count: Int64) { bytes.add(count, ordering: .relaxed) }
    var total: Int64 { bytes.load(ordering: .relaxed) }
}

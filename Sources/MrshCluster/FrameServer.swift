import Logging
import MrshWire
import NIOCore
import NIOPosix
import Synchronization

/// A TCP listener speaking the frame protocol: every accepted connection must pass the token handshake
/// (within `handshakeTimeout`; both sides prove the token) before `onConnection` sees it, and its frames
/// are sealed from then on (`FrameCipher`). A connection that fails the handshake or
/// breaks the protocol is answered with an error frame and closed; other connections are not affected.
///
/// Before the handshake has succeeded a connection may send only handshake-sized frames
/// (`WireLimits.handshakePayload`), and at most `maxPendingHandshakes` connections may be in their
/// handshake at once; more are closed as they arrive. So peers without the token hold a few KiB each, in
/// all a bounded amount. Refusals are logged at most once a second, with a count of the ones not logged.
public final class FrameServer: Sendable {
    public let channel: any Channel
    /// The bound address (with the real port when 0 was asked for).
    public let address: HostPort
    /// Connections accepted whose handshake has not ended.
    private let pending: PendingHandshakes

    /// Connections allowed in their handshake at the same time.
    public static let maxPendingHandshakes = 128

    public static func start(
        host: String, port: Int, group: any EventLoopGroup, token: AuthToken, roles: Set<PeerRole>,
        handshakeTimeout: Duration = FrameClient.defaultTimeout, logger: Logger,
        onConnection: @escaping @Sendable (FrameConnection) async -> Void
    ) async throws -> FrameServer {
        let pending = PendingHandshakes(limit: maxPendingHandshakes)
        let refusals = RefusalLog(logger: logger)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard pending.enter() else {
                    refusals.note("too many connections in their handshake (\(maxPendingHandshakes))")
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let limit = FrameSizeLimit(WireLimits.handshakePayload)
                    let stream: FrameInbound
                    do {
                        stream = try FrameConnection.installHandlers(on: channel, limit: limit)
                    } catch {
                        pending.leave()
                        throw error
                    }
                    Task {
                        await accept(
                            channel: channel, stream: stream, limit: limit, token: token, roles: roles,
                            timeout: handshakeTimeout, pending: pending, refusals: refusals, logger: logger,
                            onConnection: onConnection)
                    }
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        return FrameServer(channel: channel, address: HostPort(host: host, port: bound), pending: pending)
    }

    private init(channel: any Channel, address: HostPort, pending: PendingHandshakes) {
        self.channel = channel
        self.address = address
        self.pending = pending
    }

    /// Connections in their handshake now (for tests and diagnostics).
    public var pendingHandshakes: Int { pending.count }

    public func stop() async {
        try? await channel.close().get()
    }

    private static func accept(
        channel: any Channel, stream: FrameInbound, limit: FrameSizeLimit, token: AuthToken,
        roles: Set<PeerRole>, timeout: Duration, pending: PendingHandshakes, refusals: RefusalLog, logger: Logger,
        onConnection: @Sendable (FrameConnection) async -> Void
    ) async {
        var inHandshake = true
        func endHandshake() {
            if inHandshake { pending.leave() }
            inHandshake = false
        }
        defer { endHandshake() }
        var handshake = ServerHandshake(token: token, allowedRoles: roles)
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.writeAndFlush(Frame.error(WireError.timeout("the handshake").description), promise: nil)
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
        do {
            try await channel.writeAndFlush(handshake.start()).get()
            var iterator = stream.makeAsyncIterator()
            guard let first = try await iterator.next() else { return }
            switch handshake.receive(first) {
            case .accept(let role, let reply, let keys):
                limit.set(WireLimits.maxSealedPayload)
                // The peer seals what it sends once it has read `reply`, which is the last plain frame we send.
                stream.cipher.startOpening(with: keys.clientToServer)
                try await channel.writeAndFlush(reply).get()
                stream.cipher.startSealing(with: keys.serverToClient)
                deadline.cancel()
                endHandshake()
                logger.debug("accepted \(role) from \(peer)")
                await onConnection(FrameConnection(channel: channel, inbound: stream, role: role))
            case .reject(let reply, let error):
                refusals.note("refused connection from \(peer): \(error)")
                try? await channel.writeAndFlush(reply).get()
                try? await channel.close().get()
            }
        } catch let error as WireError where inHandshake {
            // A peer of another protocol version, or one that breaks the handshake's framing.
            refusals.note("refused connection from \(peer): \(error)")
            try? await channel.close().get()
        } catch {
            logger.info("connection from \(peer) closed: \(error)")
            try? await channel.close().get()
        }
    }
}

/// Counts connections in their handshake, up to a limit.
final class PendingHandshakes: Sendable {
    private let state = Mutex(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Takes a place; false when all are taken.
    func enter() -> Bool {
        state.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { state.withLock { $0 = max(0, $0 - 1) } }

    var count: Int { state.withLock { $0 } }
}

/// Logs refused connections at most once a second, saying how many were not logged since: a port scan or
/// a misconfigured peer must not fill the log.
final class RefusalLog: Sendable {
    private let logger: Logger
    private let state = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    init(logger: Logger) { self.logger = logger }

    func note(_ message: String) {
        let now = ContinuousClock.now
        let suppressed: Int? = state.withLock { state in
            if let last = state.last, now - last < .seconds(1) {
                state.suppressed += 1
                return nil
            }
            let count = state.suppressed
            state = (now, 0)
            return count
        }
        guard let suppressed else { return }
        logger.warning("\(message)\(suppressed > 0 ? " (and \(suppressed) more refusals in the last second)" : "")")
    }
}

import Logging
import MrshWire
import NIOCore
import NIOPosix

/// A TCP listener speaking the frame protocol: every accepted connection must pass the token handshake
/// (within `handshakeTimeout`) before `onConnection` sees it. A connection that fails the handshake or
/// breaks the protocol is answered with an error frame and closed; other connections are not affected.
public final class FrameServer: Sendable {
    public let channel: any Channel
    /// The bound address (with the real port when 0 was asked for).
    public let address: HostPort

    public static func start(
        host: String, port: Int, group: any EventLoopGroup, token: AuthToken, roles: Set<PeerRole>,
        handshakeTimeout: Duration = FrameClient.defaultTimeout, logger: Logger,
        onConnection: @escaping @Sendable (FrameConnection) async -> Void
    ) async throws -> FrameServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let stream = try FrameConnection.installHandlers(on: channel)
                    Task {
                        await accept(
                            channel: channel, stream: stream, token: token, roles: roles,
                            timeout: handshakeTimeout, logger: logger, onConnection: onConnection)
                    }
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        return FrameServer(channel: channel, address: HostPort(host: host, port: bound))
    }

    private init(channel: any Channel, address: HostPort) {
        self.channel = channel
        self.address = address
    }

    public func stop() async {
        try? await channel.close().get()
    }

    private static func accept(
        channel: any Channel, stream: FrameInbound, token: AuthToken,
        roles: Set<PeerRole>, timeout: Duration, logger: Logger,
        onConnection: @Sendable (FrameConnection) async -> Void
    ) async {
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
            case .accept(let role, let reply):
                try await channel.writeAndFlush(reply).get()
                deadline.cancel()
                logger.debug("accepted \(role) from \(peer)")
                await onConnection(FrameConnection(channel: channel, inbound: stream, role: role))
            case .reject(let reply, let error):
                logger.warning("refused connection from \(peer): \(error)")
                try? await channel.writeAndFlush(reply).get()
                try? await channel.close().get()
            }
        } catch {
            logger.info("connection from \(peer) closed: \(error)")
            try? await channel.close().get()
        }
    }
}

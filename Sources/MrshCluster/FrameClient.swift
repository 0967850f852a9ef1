import MrshWire
import NIOCore
import NIOPosix
import Synchronization

/// Opens authenticated connections to a frame server.
public enum FrameClient {
    /// How long connecting and the handshake may take unless told otherwise.
    public static let defaultTimeout: Duration = .seconds(10)

    /// Connects to `address`, proves the token in `role`, checks the server's proof of it, and returns the
    /// connection, whose frames are sealed from then on. Throws `WireError.authenticationFailed` when the
    /// server refuses the token, `WireError.serverNotAuthenticated` when the server cannot prove it (then
    /// nothing it sent is used), or the connection error.
    public static func connect(
        to address: HostPort, group: any EventLoopGroup, token: AuthToken, role: PeerRole, timeout: Duration = FrameClient.defaultTimeout
    ) async throws -> FrameConnection {
        // Until the server has proved the token too, only handshake-sized frames are accepted from it.
        let limit = FrameSizeLimit(WireLimits.handshakePayload)
        let box = Mutex<FrameInbound?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let stream = try FrameConnection.installHandlers(on: channel, limit: limit)
                    box.withLock { $0 = stream }
                }
            }
            .connect(host: address.host, port: address.port).get()
        guard let stream = box.withLock({ $0 }) else {
            try? await channel.close().get()
            throw WireError.connectionClosed
        }
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        var handshake = ClientHandshake(token: token, role: role)
        do {
            // One iterator for the handshake; the connection's users make their own, which continue after it.
            for try await frame in stream {
                switch handshake.receive(frame) {
                case .send(let reply):
                    try await channel.writeAndFlush(reply).get()
                case .established(let keys):
                    deadline.cancel()
                    // The server's frames after its acceptance are sealed, and so are ours from now on.
                    stream.cipher.startOpening(with: keys.serverToClient)
                    stream.cipher.startSealing(with: keys.clientToServer)
                    limit.set(WireLimits.maxSealedPayload)
                    return FrameConnection(channel: channel, inbound: stream, role: role)
                case .fail(let error):
                    try? await channel.close().get()
                    throw error
                }
            }
        } catch {
            try? await channel.close().get()
            throw error
        }
        try? await channel.close().get()
        throw WireError.connectionClosed
    }
}

import MrshPlan
import MrshWire
import NIOCore
import NIOPosix
import Synchronization

/// One authenticated connection carrying frames, bridged to async: received frames arrive on `inbound`,
/// `send` writes one frame and waits until NIO has written it (which is the sender's backpressure).
///
/// Heartbeats are handled here: when `heartbeat` is set, a `.heartbeat` control message is sent every
/// interval, received heartbeats are swallowed, and a peer silent for longer than the timeout (any frame
/// counts) closes the connection with `WireError.timeout`.
public final class FrameConnection: Sendable {
    public let channel: any Channel
    public let inbound: AsyncThrowingStream<Frame, any Error>
    /// The authenticated role of the peer (server side) or our own role (client side).
    public let role: PeerRole

    init(channel: any Channel, inbound: AsyncThrowingStream<Frame, any Error>, role: PeerRole) {
        self.channel = channel
        self.inbound = inbound
        self.role = role
    }

    public var remoteAddress: String {
        channel.remoteAddress.map { "\($0)" } ?? "?"
    }

    public func send(_ frame: Frame) async throws {
        try await channel.writeAndFlush(frame).get()
    }

    public func send(_ message: ControlMessage) async throws {
        try await send(message.frame())
    }

    /// Writes without waiting (from synchronous contexts); errors surface as a closed connection.
    public func sendSoon(_ message: ControlMessage) {
        channel.writeAndFlush(message.frame(), promise: nil)
    }

    /// Sends an error frame, then closes.
    public func fail(_ message: String) async {
        try? await channel.writeAndFlush(Frame.error(message)).get()
        try? await channel.close().get()
    }

    public func close() async {
        try? await channel.close().get()
    }

    /// Closes once the peer has closed its end, or after `timeout` seconds. Closing first while the peer's
    /// heartbeats still arrive answers them with a reset, and a reset can make the peer drop the last frames
    /// it had not read yet (a job's output and its `finished`).
    public func closeAfterPeer(timeout: Double) async {
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
        deadline.cancel()
    }

    /// Starts sending heartbeats and watching for silence.
    public func startHeartbeats(_ settings: HeartbeatSettings) {
        let channel = self.channel
        let frame = ControlMessage.heartbeat.frame()
        channel.eventLoop.execute {
            let task = channel.eventLoop.scheduleRepeatedTask(
                initialDelay: settings.intervalAmount, delay: settings.intervalAmount
            ) { _ in
                channel.writeAndFlush(frame, promise: nil)
            }
            channel.closeFuture.whenComplete { _ in task.cancel() }
            try? channel.pipeline.syncOperations.addHandler(
                IdleStateHandler(readTimeout: settings.timeoutAmount), position: .first)
        }
    }

    /// Installs the frame codec and the bridge on a fresh channel; returns the inbound stream.
    static func installHandlers(on channel: any Channel) throws -> AsyncThrowingStream<Frame, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Frame, any Error>.makeStream()
        let ops = channel.pipeline.syncOperations
        try ops.addHandler(ByteToMessageHandler(FrameDecoder()))
        try ops.addHandler(MessageToByteHandler(FrameEncoder()))
        try ops.addHandler(FrameStreamHandler(continuation: continuation))
        return stream
    }
}

/// How often to send heartbeats and how long a silent peer is tolerated.
public struct HeartbeatSettings: Sendable, Hashable {
    public var interval: Duration
    public var timeout: Duration
    public init(
        interval: Duration = JobSettings.defaults.heartbeatInterval, timeout: Duration = JobSettings.defaults.heartbeatTimeout
    ) {
        self.interval = interval
        self.timeout = timeout
    }
    var intervalAmount: TimeAmount { .nanoseconds(Int64(interval.seconds * 1e9)) }
    var timeoutAmount: TimeAmount { .nanoseconds(Int64(timeout.seconds * 1e9)) }
}

/// Forwards decoded frames to an `AsyncThrowingStream`; turns protocol errors, idle timeouts and EOF into the
/// stream's end (sending an error frame for protocol errors first) and closes the channel.
final class FrameStreamHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame
    private let continuation: AsyncThrowingStream<Frame, any Error>.Continuation
    private static let heartbeat = ControlMessage.heartbeat.frame()

    init(continuation: AsyncThrowingStream<Frame, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if frame == Self.heartbeat { return }
        continuation.yield(frame)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let wire = (error as? WireError) ?? (error as? ByteToMessageDecoderError).flatMap(Self.unwrap)
        if let wire {
            context.writeAndFlush(wrapOutboundOut(.error(wire.description)), promise: nil)
            continuation.finish(throwing: wire)
        } else {
            continuation.finish(throwing: error)
        }
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            continuation.finish(throwing: WireError.timeout("the peer (no heartbeat)"))
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private static func unwrap(_ error: ByteToMessageDecoderError) -> WireError? {
        if case .dataReceivedInErrorState(let inner, _) = error { return inner as? WireError }
        return nil
    }
}

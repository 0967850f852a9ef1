import MrshPlan
import MrshWire
import NIOCore
import NIOPosix
import Synchronization

/// One authenticated connection carrying sealed frames (`FrameCipher`), bridged to async: received frames arrive on `inbound`,
/// `send` writes one frame and suspends until NIO has written it (which is the sender's backpressure).
///
/// Receiving is bounded too: frames decoded but not yet taken from `inbound` count against an
/// `InboundBudget`; above its high watermark the connection stops reading from the socket (the kernel's
/// buffers fill and TCP's window holds the peer back) until the consumer has taken it below the low one.
///
/// Heartbeats are handled here: when `heartbeat` is set, a `.heartbeat` control message is sent every
/// interval, received heartbeats are swallowed, and a peer silent for longer than the timeout (any frame
/// counts) closes the connection with `WireError.timeout`. Time during which this side holds its reads (its
/// consumer is slow) does not count as the peer's silence: the peer's heartbeats wait behind the data.
public final class FrameConnection: Sendable {
    public let channel: any Channel
    public let inbound: FrameInbound
    /// The authenticated role of the peer (server side) or our own role (client side).
    public let role: PeerRole

    init(channel: any Channel, inbound: FrameInbound, role: PeerRole) {
        self.channel = channel
        self.inbound = inbound
        self.role = role
    }

    public var remoteAddress: String {
        channel.remoteAddress.map { "\($0)" } ?? "?"
    }

    /// Sends one frame; a frame larger than the protocol allows is not sent (`WireError.messageTooLarge`)
    /// and the connection stays usable.
    public func send(_ frame: Frame) async throws {
        try frame.checkSize()
        try await channel.writeAndFlush(frame).get()
    }

    public func send(_ message: ControlMessage) async throws {
        try await send(message.frame())
    }

    /// Writes without waiting (from synchronous contexts); errors surface as a closed connection.
    public func sendSoon(_ message: ControlMessage) {
        sendSoon(message.frame())
    }

    /// Writes a frame without waiting; the caller has checked it fits (`WireLimits.maxPayload`).
    public func sendSoon(_ frame: Frame) {
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends an error frame, then closes.
    public func fail(_ message: String) async {
        try? await channel.writeAndFlush(Frame.error(message)).get()
        try? await channel.close().get()
    }

    public func close() async {
        try? await channel.close().get()
    }

    /// Closes once the peer has closed its end, or after `timeout`. Closing first while the peer's
    /// heartbeats still arrive answers them with a reset, and a reset can make the peer drop the last frames
    /// it had not read yet (a job's output and its `finished`).
    public func closeAfterPeer(timeout: Duration) async {
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
        deadline.cancel()
    }

    /// Drops every frame from now on instead of queueing it, and reads freely: for a consumer that has
    /// stopped (a cancelled client) but still waits for the peer to close.
    public func discardInbound() {
        if inbound.budget.discard() { channel.read() }
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
            try? channel.pipeline.syncOperations.handler(type: FrameStreamHandler.self)
                .watchSilence(timeout: settings.timeoutAmount)
        }
    }

    /// Installs the frame codec and the bridge on a fresh channel; returns the inbound frames.
    /// `limit`: the largest payload accepted (the handshake's small one until the peer is authenticated).
    static func installHandlers(on channel: any Channel, limit: FrameSizeLimit) throws -> FrameInbound {
        let (stream, continuation) = AsyncThrowingStream<Frame, any Error>.makeStream()
        let budget = InboundBudget()
        let cipher = FrameCipher()
        let ops = channel.pipeline.syncOperations
        try ops.addHandler(ByteToMessageHandler(FrameDecoder(limit: limit)))
        try ops.addHandler(MessageToByteHandler(FrameEncoder(cipher: cipher)))
        try ops.addHandler(FrameStreamHandler(continuation: continuation, budget: budget))
        return FrameInbound(stream: stream, budget: budget, channel: channel, cipher: cipher)
    }
}

/// The frames received on a connection, in order. Taking a frame (`next()`) releases its bytes from the
/// connection's `InboundBudget`, which resumes reading from the socket once enough was taken.
///
/// Once the handshake is over, taking a frame opens it (`FrameCipher.open`: on the consumer's task, in the
/// order the frames came, so the handshake's last frame and the first sealed one can never race). A frame
/// that does not open ends the stream with `WireError.frameNotAuthentic` and closes the connection, after
/// an error frame to the peer. Heartbeats, sealed like any frame, are dropped here once opened.
///
/// Several iterators may be made one after another (each continues where the last stopped), not at once.
public struct FrameInbound: AsyncSequence, Sendable {
    public typealias Element = Frame
    let stream: AsyncThrowingStream<Frame, any Error>
    let budget: InboundBudget
    let channel: any Channel
    /// Seals this connection's outbound frames (in its encoder) and opens its inbound ones (here).
    let cipher: FrameCipher

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Frame, any Error>.AsyncIterator
        let budget: InboundBudget
        let channel: any Channel
        let cipher: FrameCipher
        private static let heartbeat = ControlMessage.heartbeat.frame()

        init(base: AsyncThrowingStream<Frame, any Error>.AsyncIterator, budget: InboundBudget, channel: any Channel, cipher: FrameCipher) {
            self.base = base
            self.budget = budget
            self.channel = channel
            self.cipher = cipher
        }

        public mutating func next() async throws -> Frame? {
            while true {
                guard let sealed = try await base.next() else { return nil }
                if budget.taken(InboundBudget.cost(of: sealed)) { channel.read() }
                let frame: Frame
                do {
                    frame = try cipher.open(sealed)
                } catch {
                    channel.writeAndFlush(Frame.error(error.description), promise: nil)
                    channel.close(promise: nil)
                    throw error
                }
                if frame.kind == .control, frame == Self.heartbeat { continue }
                return frame
            }
        }
    }

    /// Bytes of received frames not yet taken.
    public var bytesWaiting: Int { budget.waiting }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), budget: budget, channel: channel, cipher: cipher)
    }
}

/// The bytes of frames received on one connection and not yet taken by its consumer. The channel reads from
/// its socket only while they are under `high`; once reading was held, it resumes when they fall to `low`.
/// A connection therefore holds at most `high` bytes of waiting frames, plus what one read of the socket
/// brings (NIO reads at most a few 64 KiB buffers per turn) and one frame being assembled (at most
/// `WireLimits.maxPayload`; senders' data blocks are 1 MiB).
public final class InboundBudget: Sendable {
    public static let high = 4 * WireLimits.blockSize
    public static let low = 1 * WireLimits.blockSize

    private struct State {
        var waiting = 0
        var readHeld = false
        var discarding = false
    }
    private let state = Mutex(State())
    /// When the peer's last frame arrived (ContinuousClock nanoseconds since `epoch`), for the status page.
    private let lastHeard = Atomic<Int64>(0)
    private let epoch = ContinuousClock.now

    /// Notes that a frame arrived (on the event loop).
    func heard() {
        let elapsed = ContinuousClock.now - epoch
        lastHeard.store(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000, ordering: .relaxed)
    }

    /// Seconds since the peer's last frame (since this connection began when none came).
    public var secondsSinceHeard: Double {
        let elapsed = ContinuousClock.now - epoch
        let now = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        return Double(now - lastHeard.load(ordering: .relaxed)) / 1e9
    }

    static func cost(of frame: Frame) -> Int {
        frame.payload.readableBytes + WireLimits.headerSize
    }

    /// A frame of `bytes` arrived (on the event loop): true when it is to be handed to the consumer, false
    /// when frames are discarded.
    func received(_ bytes: Int) -> Bool {
        state.withLock { s in
            if s.discarding { return false }
            s.waiting += bytes
            return true
        }
    }

    /// From now on frames are dropped and reads never held. True when a held read must now be issued.
    func discard() -> Bool {
        state.withLock { s in
            s.discarding = true
            defer { s.readHeld = false }
            return s.readHeld
        }
    }

    /// The channel wants to read more (on the event loop): false, and the read is held, when too much waits.
    func mayRead() -> Bool {
        state.withLock { s in
            if s.waiting >= Self.high && !s.discarding {
                s.readHeld = true
                return false
            }
            return true
        }
    }

    /// The consumer took a frame of `bytes`. True when a held read must now be issued (`channel.read()`).
    func taken(_ bytes: Int) -> Bool {
        state.withLock { s in
            s.waiting -= bytes
            guard s.readHeld, s.waiting <= Self.low else { return false }
            s.readHeld = false
            return true
        }
    }

    /// Bytes waiting for the consumer.
    var waiting: Int { state.withLock { $0.waiting } }
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
    var intervalAmount: TimeAmount { TimeAmount(interval) }
    var timeoutAmount: TimeAmount { TimeAmount(timeout) }
}

/// Forwards decoded frames to an `AsyncThrowingStream`; turns protocol errors, a silent peer and EOF into the
/// stream's end (sending an error frame for protocol errors first) and closes the channel. Holds the
/// channel's reads while its `InboundBudget` is full (the consumer issues the read again when it has caught
/// up), and watches the peer's silence only while reading.
///
/// Not `Sendable`: its state lives on the channel's event loop, where NIO calls it.
final class FrameStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame
    private let continuation: AsyncThrowingStream<Frame, any Error>.Continuation
    private let budget: InboundBudget
    private static let heartbeat = ControlMessage.heartbeat.frame()
    private var context: ChannelHandlerContext?
    /// A read the budget refused and the consumer has not yet asked for again.
    private var readHeld = false
    /// The last frame from the peer, or the last time reading was held or resumed (silence while our
    /// consumer is slow is not the peer's).
    private var lastHeard = NIODeadline.now()
    private var silenceTimeout: TimeAmount?
    private var silenceCheck: Scheduled<Void>?
    /// When the scheduled silence check is due, and whether the last one was put off because it ran late.
    private var silenceCheckDue = NIODeadline.now()
    private var silenceCheckDeferred = false

    init(continuation: AsyncThrowingStream<Frame, any Error>.Continuation, budget: InboundBudget) {
        self.continuation = continuation
        self.budget = budget
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        silenceCheck?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastHeard = .now()
        budget.heard()
        if frame == Self.heartbeat { return }
        guard budget.received(InboundBudget.cost(of: frame)) else { return }
        continuation.yield(frame)
    }

    func read(context: ChannelHandlerContext) {
        guard budget.mayRead() else {
            if !readHeld { lastHeard = .now() }
            readHeld = true
            return
        }
        if readHeld {
            readHeld = false
            lastHeard = .now()
        }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        silenceCheck?.cancel()
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let wire = (error as? WireError) ?? (error as? ByteToMessageDecoderError).flatMap(Self.unwrap)
        if case .messageTooLarge? = wire {
            // An outbound frame failed to encode: the encoder refuses every later write, so no error frame
            // can go out (trying would fail again and land here again). Close.
            continuation.finish(throwing: error)
        } else if let wire {
            context.writeAndFlush(wrapOutboundOut(.error(wire.description)), promise: nil)
            continuation.finish(throwing: wire)
        } else {
            continuation.finish(throwing: error)
        }
        context.close(promise: nil)
    }

    /// Closes the connection with `WireError.timeout` when the peer sends nothing for `timeout` while this
    /// side is reading (on the event loop).
    func watchSilence(timeout: TimeAmount) {
        silenceTimeout = timeout
        lastHeard = .now()
        scheduleSilenceCheck()
    }

    private func scheduleSilenceCheck() {
        guard let context, let timeout = silenceTimeout else { return }
        silenceCheck?.cancel()
        let step = TimeAmount.nanoseconds(max(timeout.nanoseconds / 10, 10_000_000))
        silenceCheckDue = .now() + step
        silenceCheck = context.eventLoop.assumeIsolated().scheduleTask(in: step) { [self] in
            checkSilence()
        }
    }

    private func checkSilence() {
        guard let context, let timeout = silenceTimeout, context.channel.isActive else { return }
        if readHeld { lastHeard = .now() }
        // A check that runs more than a step late means this process was not running (stopped, starved):
        // the peer's frames may be waiting unread, so they get one more step before its silence counts
        // (once: a check late again right after decides).
        let step = TimeAmount.nanoseconds(max(timeout.nanoseconds / 10, 10_000_000))
        if NIODeadline.now() - silenceCheckDue > step, !silenceCheckDeferred {
            silenceCheckDeferred = true
            scheduleSilenceCheck()
            return
        }
        silenceCheckDeferred = false
        if NIODeadline.now() - lastHeard >= timeout {
            continuation.finish(throwing: WireError.timeout("the peer (no heartbeat)"))
            context.close(promise: nil)
            return
        }
        scheduleSilenceCheck()
    }

    private static func unwrap(_ error: ByteToMessageDecoderError) -> WireError? {
        if case .dataReceivedInErrorState(let inner, _) = error { return inner as? WireError }
        return nil
    }
}

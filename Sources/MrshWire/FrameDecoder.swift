import NIOCore
import Synchronization

/// NIO decoder: bytes -> `Frame`, through `FrameParser`. Errors propagate as `WireError` through
/// `errorCaught`, and the connection handler closes the channel.
///
/// The largest payload it accepts is read from `limit` at every frame, so a connection can start at the
/// handshake's small limit and be raised to `WireLimits.maxPayload` once the peer is authenticated.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    private let limit: FrameSizeLimit

    public init(maxPayload: Int = WireLimits.maxPayload) {
        limit = FrameSizeLimit(maxPayload)
    }

    public init(limit: FrameSizeLimit) {
        self.limit = limit
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameParser(maxPayload: limit.value).parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// The largest frame payload a connection accepts now, shared by its decoder and its handshake.
public final class FrameSizeLimit: Sendable {
    private let storage: Atomic<Int>

    public init(_ maxPayload: Int) {
        storage = Atomic(maxPayload)
    }

    public var value: Int { storage.load(ordering: .relaxed) }

    /// Raises (or lowers) the limit for the frames that follow.
    public func set(_ maxPayload: Int) { storage.store(maxPayload, ordering: .relaxed) }
}

import NIOCore

/// NIO decoder: bytes -> `Frame`, through `FrameParser`. Errors propagate as `WireError` through
/// `errorCaught`, and the connection handler closes the channel.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    private let parser: FrameParser

    public init(maxPayload: Int = WireLimits.maxPayload) {
        parser = FrameParser(maxPayload: maxPayload)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try parser.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

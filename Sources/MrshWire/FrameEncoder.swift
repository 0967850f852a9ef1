import NIOCore

/// NIO encoder: `Frame` -> bytes.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        precondition(data.payload.readableBytes <= WireLimits.maxPayload, "frame payload over the limit")
        data.encode(into: &out)
    }
}

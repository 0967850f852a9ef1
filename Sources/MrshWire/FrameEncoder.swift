import NIOCore

/// NIO encoder: `Frame` -> bytes. A frame over `WireLimits.maxPayload` is not sent: its write fails with
/// `WireError.messageTooLarge` (the peer would refuse it anyway), and nothing crashes.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try data.checkSize()
        data.encode(into: &out)
    }
}

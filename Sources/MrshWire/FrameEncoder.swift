import NIOCore

/// NIO encoder: `Frame` -> bytes, sealed by the connection's `FrameCipher` once its handshake is over. A
/// frame over `WireLimits.maxPayload` is not sent: its write fails with `WireError.messageTooLarge` (the peer
/// would refuse it anyway), and nothing crashes.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame
    private let cipher: FrameCipher

    public init(cipher: FrameCipher = FrameCipher()) {
        self.cipher = cipher
    }

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try data.checkSize()
        try cipher.encode(data, into: &out)
    }
}

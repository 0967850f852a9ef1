import NIOCore

/// One frame of the wire protocol: `length (UInt32 BE) | version (UInt8) | kind (UInt8) | payload`,
/// where `length` counts the version, kind and payload bytes.
public struct Frame: Sendable, Equatable {
    public var kind: FrameKind
    public var payload: ByteBuffer

    public init(kind: FrameKind, payload: ByteBuffer) {
        self.kind = kind
        self.payload = payload
    }

    public init(kind: FrameKind, bytes: some Sequence<UInt8> = []) {
        self.kind = kind
        self.payload = ByteBuffer(bytes: bytes)
    }

    /// An error frame carrying `message`.
    public static func error(_ message: String) -> Frame {
        Frame(kind: .error, payload: ByteBuffer(string: message))
    }

    /// Throws `WireError.messageTooLarge` when the payload exceeds `WireLimits.maxPayload` (a peer would
    /// refuse it): the one check the encoder and every sender that wants the error first make.
    public func checkSize() throws(WireError) {
        guard payload.readableBytes <= WireLimits.maxPayload else {
            throw .messageTooLarge(bytes: payload.readableBytes)
        }
    }

    /// Appends the encoded frame to `buffer`. The payload must not exceed `WireLimits.maxPayload`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(payload.readableBytes + 2), endianness: .big)
        buffer.writeInteger(WireLimits.protocolVersion)
        buffer.writeInteger(kind.rawValue)
        var payload = self.payload
        buffer.writeBuffer(&payload)
    }

    /// The payload as UTF-8 text (for error frames).
    public var text: String {
        String(buffer: payload)
    }
}

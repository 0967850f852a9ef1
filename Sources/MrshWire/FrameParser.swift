import NIOCore

/// Cuts frames out of a byte stream. A pure value: feed it the accumulated bytes, take frames out.
///
/// The header is validated as soon as its bytes arrive: an oversize or undersize length, a wrong version or an
/// unknown kind throw before the payload is awaited, so a peer claiming a 2 GiB frame costs nothing.
public struct FrameParser: Sendable {
    public let maxPayload: Int

    public init(maxPayload: Int = WireLimits.maxPayload) {
        self.maxPayload = maxPayload
    }

    /// Reads one whole frame from the front of `buffer`, or returns nil (consuming nothing) when more bytes
    /// are needed. Throws a `WireError` for a malformed header; the connection must then be closed.
    public func parse(_ buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        if Int(length) > maxPayload + 2 { throw .frameTooLarge(declared: UInt64(length) - 2) }
        if length < 2 { throw .frameTooShort(declared: UInt64(length)) }
        if let version = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self),
            version != WireLimits.protocolVersion
        {
            throw .unsupportedVersion(version)
        }
        guard let rawKind = buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self) else { return nil }
        guard let kind = FrameKind(rawValue: rawKind) else { throw .unknownKind(rawKind) }
        let payloadLength = Int(length) - 2
        guard buffer.readableBytes >= WireLimits.headerSize + payloadLength else { return nil }
        buffer.moveReaderIndex(forwardBy: WireLimits.headerSize)
        // Safe: readableBytes was checked to hold the payload just above.
        let payload = buffer.readSlice(length: payloadLength)!
        return Frame(kind: kind, payload: payload)
    }
}

import NIOCore

/// Bulk data on the wire: a `.data` frame whose payload is the CRC32C (UInt32 BE) of the bytes, then the bytes.
public enum DataBlock {
    /// A data frame for `bytes` (at most `WireLimits.maxPayload - 4` of them).
    public static func frame(_ bytes: UnsafeRawBufferPointer, allocator: ByteBufferAllocator = ByteBufferAllocator())
        -> Frame
    {
        var payload = allocator.buffer(capacity: bytes.count + 4)
        payload.writeInteger(CRC32C.checksum(bytes), endianness: .big)
        payload.writeBytes(bytes)
        return Frame(kind: .data, payload: payload)
    }

    public static func frame(_ bytes: [UInt8]) -> Frame {
        bytes.withUnsafeBytes { frame($0) }
    }

    /// The verified bytes of a data frame: throws `checksumMismatch` when they do not match their checksum.
    public static func verifiedBytes(of frame: Frame) throws(WireError) -> ByteBuffer {
        guard frame.kind == .data else { throw .unexpectedFrame(expected: "a data block", got: frame.kind) }
        var payload = frame.payload
        guard let expected = payload.readInteger(endianness: .big, as: UInt32.self) else {
            throw .badMessage("data block shorter than its checksum")
        }
        let actual = payload.withUnsafeReadableBytes { CRC32C.checksum($0) }
        guard actual == expected else { throw .checksumMismatch(expected: expected, actual: actual) }
        return payload
    }
}

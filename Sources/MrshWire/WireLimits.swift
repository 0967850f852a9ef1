/// Fixed numbers of the wire protocol (see docs/PROTOCOL.md).
public enum WireLimits {
    /// The protocol version carried by every frame. A frame with another version closes the connection.
    /// Version 2: both sides prove the token, and every frame after the handshake is sealed (AES-256-GCM).
    /// Version 3: map output locations travel in binary `mapOutputs` frames (kind 7) instead of JSON.
    public static let protocolVersion: UInt8 = 3
    /// Largest payload a frame may carry (16 MiB). A larger declared length is a protocol error that closes
    /// the connection before any buffer for it is allocated.
    public static let maxPayload = 16 * 1024 * 1024
    /// Bytes before the payload: 4-byte big-endian length, 1-byte version, 1-byte kind.
    public static let headerSize = 6
    /// Payload bytes of one bulk-data block (the sender's choice; receivers accept up to `maxPayload`).
    public static let blockSize = 1024 * 1024
    /// Bytes of the handshake nonce.
    public static let nonceSize = 32
    /// Largest payload accepted before the handshake has succeeded (4 KiB; handshake frames are a few
    /// dozen bytes): a peer that has not proved the token cannot make a server hold a large frame.
    public static let handshakePayload = 4096
    /// Bytes of the AES-GCM tag that ends every sealed frame's payload.
    public static let tagSize = 16
    /// Largest payload a sealed frame may carry on the wire: `maxPayload` of plaintext and the tag.
    public static let maxSealedPayload = maxPayload + tagSize
}

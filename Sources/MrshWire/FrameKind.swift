/// What a frame's payload is. Unknown kinds are a protocol error. After the handshake every frame (control,
/// data, error) is sealed: its payload on the wire is the ciphertext and tag (`FrameCipher`).
public enum FrameKind: UInt8, Sendable, CaseIterable {
    /// Server -> connecting side: the handshake nonce (32 random bytes).
    case challenge = 1
    /// Connecting side -> server: 1 byte role, the connecting side's nonce (32 bytes), then its proof
    /// HMAC-SHA256(token, "mrsh-v2 client" || server nonce || client nonce || role) (32 bytes).
    case response = 2
    /// Server -> connecting side: the handshake succeeded; the server's proof
    /// HMAC-SHA256(token, "mrsh-v2 server" || server nonce || client nonce || role) (32 bytes).
    case accepted = 3
    /// A control message: one JSON-encoded `ControlMessage`.
    case control = 4
    /// A block of bulk data: 4-byte big-endian CRC32C of the bytes, then the bytes.
    case data = 5
    /// A UTF-8 error message; the sender closes the connection after it.
    case error = 6
    /// Coordinator -> worker: `ControlMessage.mapOutputs` in its binary form (`MapOutputsFrame`).
    case mapOutputs = 7
}

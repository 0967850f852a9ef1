/// Everything that can go wrong on a connection, with a message fit for a user.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A frame declared a payload larger than the limit (the connection is closed unread).
    case frameTooLarge(declared: UInt64)
    /// A message to send is larger than a frame may carry (it is not sent).
    case messageTooLarge(bytes: Int)
    /// A frame declared a length too small to hold version and kind.
    case frameTooShort(declared: UInt64)
    case unsupportedVersion(UInt8)
    case unknownKind(UInt8)
    /// A frame that is well formed but not what the protocol expects at this point.
    case unexpectedFrame(expected: String, got: FrameKind)
    /// A control message that cannot be decoded.
    case badMessage(String)
    /// A data block whose checksum does not match its bytes.
    case checksumMismatch(expected: UInt32, actual: UInt32)
    /// The peer's answer to the challenge does not prove the token.
    case authenticationFailed
    /// The server's acceptance does not prove the token: it is not one of this cluster's servers.
    case serverNotAuthenticated
    /// A sealed frame that does not open as the connection's next frame: altered, replayed, reordered or
    /// dropped on the way (or sealed with another key).
    case frameNotAuthentic
    /// The peer sent an error frame.
    case remote(String)
    /// The connection closed before the exchange finished.
    case connectionClosed
    /// The peer did not answer in time.
    case timeout(String)
    /// A token file that cannot be used (missing, unreadable, empty); the text names the file.
    case badToken(String)

    public var description: String {
        switch self {
        case .frameTooLarge(let n):
            return "protocol error: frame of \(n) bytes exceeds the limit of \(WireLimits.maxPayload) bytes"
        case .messageTooLarge(let n):
            return "a message of \(n) bytes is larger than the wire protocol allows (\(WireLimits.maxPayload) bytes)"
        case .frameTooShort(let n): return "protocol error: frame length \(n) is too short"
        case .unsupportedVersion(let v):
            return "protocol error: the peer speaks mrsh wire protocol version \(v), this side version "
                + "\(WireLimits.protocolVersion): run the same mrsh release on every host of the cluster"
        case .unknownKind(let k): return "protocol error: unknown frame kind \(k)"
        case .unexpectedFrame(let expected, let got): return "protocol error: expected \(expected), got a \(got) frame"
        case .badMessage(let why): return "protocol error: bad control message: \(why)"
        case .checksumMismatch(let e, let a):
            return "data block checksum mismatch (expected \(hex(e)), computed \(hex(a)))"
        case .authenticationFailed: return "authentication failed"
        case .serverNotAuthenticated:
            return "authentication failed: the server did not prove the cluster's token (not this cluster's "
                + "server, or its token file differs)"
        case .frameNotAuthentic:
            return "protocol error: a frame failed authentication (altered, replayed, reordered or dropped on the way)"
        case .remote(let message): return message
        case .connectionClosed: return "connection closed"
        case .timeout(let what): return "timed out waiting for \(what)"
        case .badToken(let message): return message
        }
    }

    private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
}

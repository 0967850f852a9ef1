import NIOCore

/// The connecting side of the token handshake, as a pure state machine: answer the challenge with a fresh
/// nonce of its own and HMAC-SHA256(token, "mrsh-v2 client" || server nonce || client nonce || role), then
/// wait for `.accepted`, whose payload must prove the token in turn for the same nonces and role. A server
/// that cannot prove it is refused (`WireError.serverNotAuthenticated`): nothing it sends is believed.
public struct ClientHandshake: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send this frame and keep feeding received frames.
        case send(Frame)
        /// Both sides proved the token; the connection's frames are now sealed with these keys.
        case established(SessionKeys)
        /// The handshake failed; close the connection.
        case fail(WireError)
    }

    private enum State { case awaitingChallenge, awaitingVerdict(HandshakeTranscript), finished }
    private var state = State.awaitingChallenge
    private let token: AuthToken
    private let nonce: [UInt8]
    public let role: PeerRole

    /// - Parameter nonce: for tests only; production uses fresh random bytes.
    public init(token: AuthToken, role: PeerRole, nonce: [UInt8]? = nil) {
        self.token = token
        self.role = role
        self.nonce = nonce ?? HandshakeTranscript.randomNonce()
    }

    public mutating func receive(_ frame: Frame) -> Action {
        if frame.kind == .error {
            state = .finished
            let text = frame.text
            return .fail(text == WireError.authenticationFailed.description ? .authenticationFailed : .remote(text))
        }
        switch state {
        case .awaitingChallenge:
            guard frame.kind == .challenge, frame.payload.readableBytes == WireLimits.nonceSize else {
                state = .finished
                return .fail(.unexpectedFrame(expected: "a handshake challenge", got: frame.kind))
            }
            let transcript = HandshakeTranscript(
                serverNonce: Array(frame.payload.readableBytesView), clientNonce: nonce, role: role)
            state = .awaitingVerdict(transcript)
            return .send(Frame(kind: .response, bytes: [role.rawValue] + nonce + token.clientProof(transcript)))
        case .awaitingVerdict(let transcript):
            state = .finished
            guard frame.kind == .accepted else {
                return .fail(.unexpectedFrame(expected: "handshake acceptance", got: frame.kind))
            }
            guard token.verifyServerProof(Array(frame.payload.readableBytesView), transcript) else {
                return .fail(.serverNotAuthenticated)
            }
            return .established(token.sessionKeys(transcript))
        case .finished:
            return .fail(.unexpectedFrame(expected: "nothing (handshake over)", got: frame.kind))
        }
    }
}

import NIOCore

/// The connecting side of the token handshake, as a pure state machine: answer the challenge with
/// HMAC-SHA256(token, nonce || role), then wait for `.accepted` or an error frame.
public struct ClientHandshake: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send this frame and keep feeding received frames.
        case send(Frame)
        /// The server accepted the proof; the connection now carries control and data frames.
        case established
        /// The handshake failed; close the connection.
        case fail(WireError)
    }

    private enum State { case awaitingChallenge, awaitingVerdict, finished }
    private var state = State.awaitingChallenge
    private let token: AuthToken
    public let role: PeerRole

    public init(token: AuthToken, role: PeerRole) {
        self.token = token
        self.role = role
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
            state = .awaitingVerdict
            let nonce = Array(frame.payload.readableBytesView)
            return .send(Frame(kind: .response, bytes: [role.rawValue] + token.proof(nonce: nonce, role: role)))
        case .awaitingVerdict:
            state = .finished
            guard frame.kind == .accepted else {
                return .fail(.unexpectedFrame(expected: "handshake acceptance", got: frame.kind))
            }
            return .established
        case .finished:
            return .fail(.unexpectedFrame(expected: "nothing (handshake over)", got: frame.kind))
        }
    }
}

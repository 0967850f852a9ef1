import NIOCore

/// The accepting side of the token handshake, as a pure state machine.
///
/// `start()` yields the challenge frame (a fresh random nonce). The first frame received must be a
/// `.response` whose role is allowed and whose MAC proves the token for both nonces and that role; the
/// answer is `.accepted` carrying the server's own proof, and the connection's keys. Anything else is
/// rejected with an error frame the caller sends before closing.
public struct ServerHandshake: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send `reply` (`.accepted`, the server's proof); the peer is authenticated in `role`, and the frames
        /// after `reply` are sealed with `keys`.
        case accept(role: PeerRole, reply: Frame, keys: SessionKeys)
        /// Send `reply` (an error frame), then close the connection.
        case reject(reply: Frame, error: WireError)
    }

    private enum State { case initial, awaitingResponse, finished }
    private var state = State.initial
    private let token: AuthToken
    private let nonce: [UInt8]
    private let allowedRoles: Set<PeerRole>

    /// Bytes of a response: role, client nonce, proof.
    static let responseSize = 1 + WireLimits.nonceSize + 32

    /// - Parameter nonce: for tests only; production uses fresh random bytes.
    public init(token: AuthToken, allowedRoles: Set<PeerRole>, nonce: [UInt8]? = nil) {
        self.token = token
        self.allowedRoles = allowedRoles
        self.nonce = nonce ?? HandshakeTranscript.randomNonce()
    }

    /// The challenge frame to send first.
    public mutating func start() -> Frame {
        precondition(state == .initial, "handshake started twice")
        state = .awaitingResponse
        return Frame(kind: .challenge, bytes: nonce)
    }

    public mutating func receive(_ frame: Frame) -> Action {
        guard state == .awaitingResponse else {
            state = .finished
            return reject(.unexpectedFrame(expected: "nothing (handshake over)", got: frame.kind))
        }
        state = .finished
        guard frame.kind == .response else {
            return reject(.unexpectedFrame(expected: "a handshake response", got: frame.kind))
        }
        var payload = frame.payload
        guard payload.readableBytes == Self.responseSize, let rawRole = payload.readInteger(as: UInt8.self),
            let clientNonce = payload.readBytes(length: WireLimits.nonceSize),
            let proof = payload.readBytes(length: 32)
        else {
            return reject(.authenticationFailed)
        }
        guard let role = PeerRole(rawValue: rawRole), allowedRoles.contains(role) else {
            return reject(.authenticationFailed)
        }
        let transcript = HandshakeTranscript(serverNonce: nonce, clientNonce: clientNonce, role: role)
        guard token.verifyClientProof(proof, transcript) else { return reject(.authenticationFailed) }
        return .accept(
            role: role, reply: Frame(kind: .accepted, bytes: token.serverProof(transcript)),
            keys: token.sessionKeys(transcript))
    }

    private func reject(_ error: WireError) -> Action {
        .reject(reply: .error(error.description), error: error)
    }
}

import NIOCore

/// The accepting side of the token handshake, as a pure state machine.
///
/// `start()` yields the challenge frame (a fresh random nonce). The first frame received must be a
/// `.response` whose role is allowed and whose MAC proves the token for that nonce and role; anything else is
/// rejected with an error frame the caller sends before closing.
public struct ServerHandshake: Sendable {
    public enum Action: Sendable, Equatable {
        /// Send `reply` (`.accepted`); the peer is authenticated in `role`.
        case accept(role: PeerRole, reply: Frame)
        /// Send `reply` (an error frame), then close the connection.
        case reject(reply: Frame, error: WireError)
    }

    private enum State { case initial, awaitingResponse, finished }
    private var state = State.initial
    private let token: AuthToken
    private let nonce: [UInt8]
    private let allowedRoles: Set<PeerRole>

    /// - Parameter nonce: for tests only; production uses fresh random bytes.
    public init(token: AuthToken, allowedRoles: Set<PeerRole>, nonce: [UInt8]? = nil) {
        self.token = token
        self.allowedRoles = allowedRoles
        if let nonce {
            self.nonce = nonce
        } else {
            var rng = SystemRandomNumberGenerator()
            self.nonce = (0..<WireLimits.nonceSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
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
        guard payload.readableBytes == 33, let rawRole = payload.readInteger(as: UInt8.self),
            let proof = payload.readBytes(length: 32)
        else {
            return reject(.authenticationFailed)
        }
        guard let role = PeerRole(rawValue: rawRole), allowedRoles.contains(role),
            token.verify(proof: proof, nonce: nonce, role: role)
        else {
            return reject(.authenticationFailed)
        }
        return .accept(role: role, reply: Frame(kind: .accepted))
    }

    private func reject(_ error: WireError) -> Action {
        .reject(reply: .error(error.description), error: error)
    }
}

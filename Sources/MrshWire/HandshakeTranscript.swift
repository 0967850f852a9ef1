/// What both sides of one handshake agree on: the server's nonce, the connecting side's nonce and its role.
/// Both proofs and both session keys are bound to all three, so nothing of one connection serves another.
public struct HandshakeTranscript: Sendable, Equatable {
    public let serverNonce: [UInt8]
    public let clientNonce: [UInt8]
    public let role: PeerRole

    public init(serverNonce: [UInt8], clientNonce: [UInt8], role: PeerRole) {
        self.serverNonce = serverNonce
        self.clientNonce = clientNonce
        self.role = role
    }

    /// `label ‖ serverNonce ‖ clientNonce ‖ role`: what a proof authenticates (the label tells the two proofs
    /// apart, so a server's proof can never be replayed as a client's).
    func bytes(_ label: String) -> [UInt8] {
        Array(label.utf8) + serverNonce + clientNonce + [role.rawValue]
    }

    /// Fresh random bytes for a nonce, from the system's secure generator.
    static func randomNonce() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<WireLimits.nonceSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
}

import MrshWire
import NIOCore

/// What every decoded frame goes through: each decoder the receiving side has, with round-trip checks.
enum FrameChecks {
    static let token = AuthToken("fuzz-token")
    static let nonce = [UInt8](repeating: 0xA5, count: WireLimits.nonceSize)

    static func check(_ frame: Frame) {
        // Encoding the frame again and parsing it gives the same frame.
        var encoded = ByteBuffer()
        frame.encode(into: &encoded)
        let again = try? FrameParser().parse(&encoded)
        precondition(again == frame && encoded.readableBytes == 0, "frame does not survive re-encoding")

        controlMessage(frame)
        dataBlock(frame)
        handshakes(frame)
    }

    /// A control message that decodes encodes to a frame that decodes to the same message.
    private static func controlMessage(_ frame: Frame) {
        guard let message = try? ControlMessage(frame: frame) else { return }
        precondition(frame.kind == .control, "a \(frame.kind) frame decoded as a control message")
        let reencoded = message.frame()
        let decoded: ControlMessage
        do {
            decoded = try ControlMessage(frame: reencoded)
        } catch {
            preconditionFailure("re-encoded \(message) does not decode: \(error) (\(reencoded.text))")
        }
        precondition(decoded == message, "control message changes in a round trip: \(message) vs \(decoded)")
    }

    /// A data block that verifies is the block `DataBlock.frame` makes of its bytes.
    private static func dataBlock(_ frame: Frame) {
        guard let bytes = try? DataBlock.verifiedBytes(of: frame) else { return }
        let rebuilt = DataBlock.frame(Array(bytes.readableBytesView))
        precondition(rebuilt == frame, "verified data block differs from the block of its bytes")
    }

    /// The server side accepts only a proof of the token; the client side answers a challenge with a proof the
    /// server accepts.
    private static func handshakes(_ frame: Frame) {
        var server = ServerHandshake(token: token, allowedRoles: Set(PeerRole.allCases), nonce: nonce)
        _ = server.start()
        if case .accept(let role, _) = server.receive(frame) {
            let honest = answer(Frame(kind: .challenge, bytes: nonce), role: role)
            precondition(honest == frame, "server accepted a response that is not the token's proof")
        }
        for role in PeerRole.allCases {
            guard let response = answer(frame, role: role) else { continue }
            var verifier = ServerHandshake(token: token, allowedRoles: [role], nonce: Array(frame.payload.readableBytesView))
            _ = verifier.start()
            guard case .accept(role, _) = verifier.receive(response) else {
                preconditionFailure("server rejects the client's answer to a challenge")
            }
        }
    }

    /// The client's reply to `frame` as its first frame, if it sends one.
    private static func answer(_ frame: Frame, role: PeerRole) -> Frame? {
        var client = ClientHandshake(token: token, role: role)
        guard case .send(let reply) = client.receive(frame) else { return nil }
        precondition(frame.kind == .challenge && frame.payload.readableBytes == WireLimits.nonceSize)
        return reply
    }
}

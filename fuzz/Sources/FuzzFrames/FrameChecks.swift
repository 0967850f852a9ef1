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

    /// A control message that decodes (from JSON, or a binary `mapOutputs` frame) encodes to a frame that
    /// decodes to the same message.
    private static func controlMessage(_ frame: Frame) {
        guard let message = try? ControlMessage(frame: frame) else { return }
        precondition(frame.kind == .control || frame.kind == .mapOutputs, "a \(frame.kind) frame decoded as a control message")
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

    /// The server side accepts only a proof of the token for the nonces and role the response names, and the
    /// honest client takes the server's reply as proof in turn, with the same keys; the client side answers a
    /// challenge with a proof the server accepts, and the two sides then agree on the connection's keys.
    private static func handshakes(_ frame: Frame) {
        var server = ServerHandshake(token: token, allowedRoles: Set(PeerRole.allCases), nonce: nonce)
        _ = server.start()
        if case .accept(let role, let reply, let keys) = server.receive(frame) {
            // Only the honest client's answer (for the client nonce the response carries) is accepted.
            let clientNonce = Array(frame.payload.readableBytesView.dropFirst().prefix(WireLimits.nonceSize))
            var honest = ClientHandshake(token: token, role: role, nonce: clientNonce)
            guard case .send(let answer) = honest.receive(Frame(kind: .challenge, bytes: nonce)) else {
                preconditionFailure("the client does not answer a challenge")
            }
            precondition(answer == frame, "server accepted a response that is not the token's proof")
            precondition(honest.receive(reply) == .established(keys), "client and server disagree on the keys")
            sealing(frame, keys: keys)
        }
        for role in PeerRole.allCases {
            var client = ClientHandshake(token: token, role: role, nonce: nonce)
            guard case .send(let response) = client.receive(frame) else { continue }
            precondition(frame.kind == .challenge && frame.payload.readableBytes == WireLimits.nonceSize)
            var verifier = ServerHandshake(
                token: token, allowedRoles: [role], nonce: Array(frame.payload.readableBytesView))
            _ = verifier.start()
            guard case .accept(role, let reply, let keys) = verifier.receive(response) else {
                preconditionFailure("server rejects the client's answer to a challenge")
            }
            precondition(client.receive(reply) == .established(keys), "client refuses the honest server's proof")
        }
    }

    /// With a connection's keys: `frame` sealed by one side opens on the other as itself, and the same sealed
    /// bytes opened a second time (a replay) or with one byte flipped are refused.
    private static func sealing(_ frame: Frame, keys: SessionKeys) {
        guard FrameSealing.enabled else { return }
        let sender = FrameCipher()
        sender.startSealing(with: keys.clientToServer)
        var wire = ByteBuffer()
        do {
            try sender.encode(frame, into: &wire)
            try sender.encode(frame, into: &wire)
        } catch {
            return  // a frame too large to seal is refused, which is what a sender should do
        }
        var sealed: [Frame] = []
        let parser = FrameParser()
        while let next = try? parser.parse(&wire) { sealed.append(next) }
        precondition(sealed.count == 2, "sealed frames do not parse")
        let receiver = FrameCipher()
        receiver.startOpening(with: keys.clientToServer)
        precondition((try? receiver.open(sealed[0])) == frame, "a sealed frame does not open as itself")
        precondition((try? receiver.open(sealed[0])) == nil, "a replayed frame opens")
        let other = FrameCipher()
        other.startOpening(with: keys.clientToServer)
        var bytes = Array(sealed[1].payload.readableBytesView)
        if !bytes.isEmpty {
            bytes[bytes.count / 2] ^= 0x01
            precondition(
                (try? other.open(Frame(kind: sealed[1].kind, bytes: bytes))) == nil, "an altered frame opens")
        }
    }
}

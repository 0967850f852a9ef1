import NIOCore
import Testing

@testable import MrshWire

@Suite struct HandshakeTests {
    let nonce = [UInt8](repeating: 7, count: WireLimits.nonceSize)

    /// Runs both state machines against each other; returns the server's and the client's final actions.
    func exchange(server serverToken: String, client clientToken: String, role: PeerRole, allowed: Set<PeerRole>)
        -> (ServerHandshake.Action, ClientHandshake.Action)
    {
        var server = ServerHandshake(token: AuthToken(serverToken), allowedRoles: allowed, nonce: nonce)
        var client = ClientHandshake(token: AuthToken(clientToken), role: role)
        guard case .send(let response) = client.receive(server.start()) else {
            Issue.record("client did not answer the challenge")
            return (.reject(reply: .error(""), error: .connectionClosed), .fail(.connectionClosed))
        }
        #expect(!response.payload.readableBytesView.contains(Array(clientToken.utf8)))
        let verdict = server.receive(response)
        let reply: Frame
        switch verdict {
        case .accept(_, let r): reply = r
        case .reject(let r, _): reply = r
        }
        return (verdict, client.receive(reply))
    }

    @Test func rightTokenIsAccepted() {
        let (s, c) = exchange(server: "secret", client: "secret", role: .worker, allowed: [.worker, .client])
        #expect(s == .accept(role: .worker, reply: Frame(kind: .accepted)))
        #expect(c == .established)
    }

    @Test func wrongTokenIsRejected() {
        let (s, c) = exchange(server: "secret", client: "guess", role: .worker, allowed: [.worker])
        guard case .reject(let reply, let error) = s else {
            Issue.record("accepted a wrong token")
            return
        }
        #expect(error == .authenticationFailed)
        #expect(reply.kind == .error && reply.text == "authentication failed")
        #expect(c == .fail(.authenticationFailed))
    }

    @Test func roleNotAllowedIsRejected() {
        let (s, _) = exchange(server: "secret", client: "secret", role: .client, allowed: [.fetcher])
        guard case .reject = s else {
            Issue.record("accepted a role that is not allowed")
            return
        }
    }

    @Test func proofIsBoundToRoleAndNonce() {
        let token = AuthToken("secret")
        #expect(token.verify(proof: token.proof(nonce: nonce, role: .worker), nonce: nonce, role: .worker))
        #expect(!token.verify(proof: token.proof(nonce: nonce, role: .worker), nonce: nonce, role: .client))
        var other = nonce
        other[0] = 8
        #expect(!token.verify(proof: token.proof(nonce: nonce, role: .worker), nonce: other, role: .worker))
    }

    @Test func garbageInsteadOfResponseIsRejected() {
        var server = ServerHandshake(token: AuthToken("s"), allowedRoles: [.worker])
        _ = server.start()
        guard case .reject = server.receive(Frame(kind: .control, bytes: Array("{}".utf8))) else {
            Issue.record("accepted a control frame as handshake")
            return
        }
        var again = ServerHandshake(token: AuthToken("s"), allowedRoles: [.worker])
        _ = again.start()
        guard case .reject = again.receive(Frame(kind: .response, bytes: [1, 2, 3])) else {
            Issue.record("accepted a short response")
            return
        }
    }
}

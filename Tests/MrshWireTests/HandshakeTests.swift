import NIOCore
import Testing

@testable import MrshWire

@Suite struct HandshakeTests {
    let serverNonce = [UInt8](repeating: 7, count: WireLimits.nonceSize)
    let clientNonce = [UInt8](repeating: 9, count: WireLimits.nonceSize)

    /// Runs both state machines against each other; returns the server's and the client's final actions.
    func exchange(server serverToken: String, client clientToken: String, role: PeerRole, allowed: Set<PeerRole>)
        -> (ServerHandshake.Action, ClientHandshake.Action)
    {
        var server = ServerHandshake(token: AuthToken(serverToken), allowedRoles: allowed, nonce: serverNonce)
        var client = ClientHandshake(token: AuthToken(clientToken), role: role, nonce: clientNonce)
        guard case .send(let response) = client.receive(server.start()) else {
            Issue.record("client did not answer the challenge")
            return (.reject(reply: .error(""), error: .connectionClosed), .fail(.connectionClosed))
        }
        #expect(!response.payload.readableBytesView.contains(Array(clientToken.utf8)))
        let verdict = server.receive(response)
        let reply: Frame
        switch verdict {
        case .accept(_, let r, _): reply = r
        case .reject(let r, _): reply = r
        }
        return (verdict, client.receive(reply))
    }

    @Test func rightTokenIsAcceptedBothWaysWithTheSameKeys() throws {
        let (s, c) = exchange(server: "secret", client: "secret", role: .worker, allowed: [.worker, .client])
        guard case .accept(let role, let reply, let serverKeys) = s, case .established(let clientKeys) = c else {
            Issue.record("handshake failed: \(s) \(c)")
            return
        }
        #expect(role == .worker)
        #expect(reply.kind == .accepted && reply.payload.readableBytes == 32)
        #expect(serverKeys == clientKeys)
        #expect(serverKeys.clientToServer != serverKeys.serverToClient)
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

    /// A server without the token cannot make the client believe it: whatever it puts in `accepted` (the
    /// empty payload of version 1, random bytes, its own token's proof), the client fails the handshake.
    @Test func serverWithoutTheTokenIsRefused() {
        let token = AuthToken("secret")
        let forged: [[UInt8]] = [
            [], [UInt8](repeating: 0, count: 32),
            AuthToken("guess").serverProof(HandshakeTranscript(serverNonce: serverNonce, clientNonce: clientNonce, role: .worker)),
            // The client's own proof reflected back is no server proof either.
            token.clientProof(HandshakeTranscript(serverNonce: serverNonce, clientNonce: clientNonce, role: .worker)),
        ]
        for payload in forged {
            var client = ClientHandshake(token: token, role: .worker, nonce: clientNonce)
            guard case .send = client.receive(Frame(kind: .challenge, bytes: serverNonce)) else {
                Issue.record("no response")
                return
            }
            #expect(client.receive(Frame(kind: .accepted, bytes: payload)) == .fail(.serverNotAuthenticated))
        }
    }

    @Test func roleNotAllowedIsRejected() {
        let (s, _) = exchange(server: "secret", client: "secret", role: .client, allowed: [.fetcher])
        guard case .reject = s else {
            Issue.record("accepted a role that is not allowed")
            return
        }
    }

    @Test func proofsAndKeysAreBoundToRoleAndBothNonces() {
        let token = AuthToken("secret")
        let t = HandshakeTranscript(serverNonce: serverNonce, clientNonce: clientNonce, role: .worker)
        #expect(token.verifyClientProof(token.clientProof(t), t))
        #expect(token.verifyServerProof(token.serverProof(t), t))
        #expect(!token.verifyServerProof(token.clientProof(t), t))
        var otherServer = serverNonce
        otherServer[0] = 8
        var otherClient = clientNonce
        otherClient[31] = 8
        let others = [
            HandshakeTranscript(serverNonce: serverNonce, clientNonce: clientNonce, role: .client),
            HandshakeTranscript(serverNonce: otherServer, clientNonce: clientNonce, role: .worker),
            HandshakeTranscript(serverNonce: serverNonce, clientNonce: otherClient, role: .worker),
        ]
        for other in others {
            #expect(!token.verifyClientProof(token.clientProof(t), other))
            #expect(!token.verifyServerProof(token.serverProof(t), other))
            #expect(token.sessionKeys(other) != token.sessionKeys(t))
        }
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

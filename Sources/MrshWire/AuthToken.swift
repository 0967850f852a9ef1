import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The cluster's shared secret. It never travels: the handshake proves it both ways with HMAC-SHA256, and
/// each connection's frame keys are derived from it (docs/PROTOCOL.md).
public struct AuthToken: Sendable {
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    public init(_ secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// The fewest characters a token may have: a short one is guessed by whoever can reach a port.
    public static let minimumLength = 16

    /// How to make a good token file, for error messages.
    public static let advice = "`mrsh token FILE` writes a random one, readable only by you"

    /// Reads the token from a file (surrounding white space ignored). Throws a message naming the file when it
    /// cannot be read, can be read by other users (as ssh refuses such a key), or holds a token that is empty
    /// or shorter than `minimumLength`.
    public init(contentsOfFile path: String) throws(WireError) {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else {
            throw .badToken("cannot read token file '\(path)'")
        }
        if info.st_mode & 0o077 != 0 {
            throw .badToken(
                "token file '\(path)' can be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))): "
                    + "run chmod 600 '\(path)', or \(Self.advice)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .badToken("token file '\(path)' is empty: \(Self.advice)") }
        try self.init(checking: text, from: "token file '\(path)'")
    }

    /// A token given as text (`MRSH_TOKEN`), refused when shorter than `minimumLength`; `source` names it.
    public init(checking text: String, from source: String) throws(WireError) {
        guard text.count >= Self.minimumLength else {
            throw .badToken(
                "the token in \(source) has \(text.count) characters; a token needs at least "
                    + "\(Self.minimumLength): \(Self.advice)")
        }
        self.init(text)
    }

    /// Writes a new random token to `path`, readable and writable by its owner only; refuses to replace a
    /// file that exists.
    public static func writeNew(to path: String) throws(WireError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .badToken("cannot create token file '\(path)': \(reason)")
        }
        defer { close(fd) }
        let bytes = Array((random() + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            unlink(path)
            throw .badToken("cannot write token file '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// A fresh random token: 32 random bytes in hex.
    public static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
        }.joined()
    }

    /// A secret for another use of the cluster's token (the status page's login code): the first 128 bits of
    /// HMAC-SHA256(token, "mrsh " + purpose) in hex. It reveals nothing of the token.
    public func derived(_ purpose: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(("mrsh " + purpose).utf8), using: key)
        return Array(mac).prefix(16).map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
    }

    /// The connecting side's proof: HMAC-SHA256(token, "mrsh-v2 client" ‖ serverNonce ‖ clientNonce ‖ role).
    func clientProof(_ transcript: HandshakeTranscript) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: transcript.bytes(Self.clientLabel), using: key))
    }

    /// The server's proof: HMAC-SHA256(token, "mrsh-v2 server" ‖ serverNonce ‖ clientNonce ‖ role).
    func serverProof(_ transcript: HandshakeTranscript) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: transcript.bytes(Self.serverLabel), using: key))
    }

    /// Constant-time checks of the proofs (swift-crypto compares MACs in constant time).
    func verifyClientProof(_ proof: [UInt8], _ transcript: HandshakeTranscript) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: transcript.bytes(Self.clientLabel), using: key)
    }

    func verifyServerProof(_ proof: [UInt8], _ transcript: HandshakeTranscript) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: transcript.bytes(Self.serverLabel), using: key)
    }

    /// The connection's two AES-256-GCM keys: HKDF-SHA256 with the token as input key material, salt
    /// serverNonce ‖ clientNonce, and info "mrsh-v2 client->server" or "mrsh-v2 server->client" followed by
    /// the role byte; 32 bytes each.
    func sessionKeys(_ transcript: HandshakeTranscript) -> SessionKeys {
        let salt = transcript.serverNonce + transcript.clientNonce
        func derive(_ label: String) -> [UInt8] {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: key, salt: salt, info: Array(label.utf8) + [transcript.role.rawValue],
                outputByteCount: 32
            ).withUnsafeBytes { Array($0) }
        }
        return SessionKeys(clientToServer: derive(Self.clientToServerLabel), serverToClient: derive(Self.serverToClientLabel))
    }

    static let clientLabel = "mrsh-v2 client"
    static let serverLabel = "mrsh-v2 server"
    static let clientToServerLabel = "mrsh-v2 client->server"
    static let serverToClientLabel = "mrsh-v2 server->client"
}

import Crypto
import Foundation

/// The cluster's shared secret. It never travels: the handshake proves it with HMAC-SHA256.
public struct AuthToken: Sendable {
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    public init(_ secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// Reads the token from a file (surrounding white space ignored). Throws `WireError.badToken`, naming the file,
    /// when it cannot be read or is empty.
    public init(contentsOfFile path: String) throws(WireError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badToken("cannot read token file '\(path)'")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .badToken("token file '\(path)' is empty") }
        self.init(text)
    }

    /// A fresh random token: 32 random bytes in hex.
    public static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
        }.joined()
    }

    /// HMAC-SHA256(token, nonce || role).
    func proof(nonce: [UInt8], role: PeerRole) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: nonce + [role.rawValue], using: key))
    }

    /// Constant-time check of a proof (swift-crypto compares MACs in constant time).
    func verify(proof: [UInt8], nonce: [UInt8], role: PeerRole) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: nonce + [role.rawValue], using: key)
    }
}

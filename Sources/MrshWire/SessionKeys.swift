/// The two AES-256-GCM keys of one connection, one per direction (derived by `AuthToken.sessionKeys`), as
/// bytes (swift-crypto's `SymmetricKey` is not `Sendable`; `FrameCipher` makes one per direction).
public struct SessionKeys: Sendable, Equatable {
    public let clientToServer: [UInt8]
    public let serverToClient: [UInt8]
}

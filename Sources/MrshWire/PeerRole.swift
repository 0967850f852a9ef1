/// Who is connecting, proven together with the token in the handshake (the role byte is part of the MAC).
public enum PeerRole: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A worker joining a coordinator.
    case worker = 1
    /// A client submitting jobs to a coordinator.
    case client = 2
    /// A reducer (or the coordinator) fetching blobs from a shuffle server.
    case fetcher = 3

    public var description: String {
        switch self {
        case .worker: return "worker"
        case .client: return "client"
        case .fetcher: return "fetcher"
        }
    }
}

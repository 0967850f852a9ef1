import MrshWire

/// Settings of one worker process (`mrsh worker`).
public struct WorkerOptions: Sendable {
    public var coordinator: HostPort
    public var token: AuthToken
    public var slots: Int
    /// Directory for this worker's blobs and fetched copies.
    public var scratch: String
    /// Interface the shuffle server listens on; "0.0.0.0" advertises the address used to reach the coordinator.
    public var listenHost: String
    /// Proposed worker id (the coordinator makes it unique).
    public var id: String
    /// How long connecting and the handshake to the coordinator may take.
    public var connectTimeout: Duration
    public var shuffleHooks: ShuffleServer.Hooks
    /// Whether tasks may run the commands of `stream` (`--allow-stream`); told to the coordinator.
    public var allowStream: Bool

    public init(
        coordinator: HostPort, token: AuthToken, slots: Int, scratch: String, listenHost: String = "127.0.0.1",
        id: String, connectTimeout: Duration = FrameClient.defaultTimeout, shuffleHooks: ShuffleServer.Hooks = ShuffleServer.Hooks(),
        allowStream: Bool = false
    ) {
        self.allowStream = allowStream
        self.coordinator = coordinator
        self.token = token
        self.slots = slots
        self.scratch = scratch
        self.listenHost = listenHost
        self.id = id
        self.connectTimeout = connectTimeout
        self.shuffleHooks = shuffleHooks
    }
}

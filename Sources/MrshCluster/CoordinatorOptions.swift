import MrshWire

/// Settings of a coordinator (`mrsh coordinator`, or the embedded one).
public struct CoordinatorOptions: Sendable {
    public var listen: HostPort
    public var token: AuthToken
    /// Spooled standard input and fetched copies.
    public var scratch: String
    public var heartbeat: HeartbeatSettings
    /// How long a job waits for its first worker before failing.
    public var workerWaitTimeout: Duration

    public init(
        listen: HostPort, token: AuthToken, scratch: String, heartbeat: HeartbeatSettings = HeartbeatSettings(),
        workerWaitTimeout: Duration = .seconds(30)
    ) {
        self.listen = listen
        self.token = token
        self.scratch = scratch
        self.heartbeat = heartbeat
        self.workerWaitTimeout = workerWaitTimeout
    }
}

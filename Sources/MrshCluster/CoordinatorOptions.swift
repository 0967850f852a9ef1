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
    /// Where the journal lives (`--state-dir`): a coordinator restarted with the same directory resumes the
    /// run it was running. nil: no journal (a coordinator that dies ends its job).
    public var stateDirectory: String?
    /// How long a resumed run waits for its client to attach before it runs without one (its `write`
    /// directories are committed, output for standard output is dropped).
    public var clientWait: Duration = .seconds(60)
    /// How long a resumed run waits for the workers holding its map outputs to register again.
    public var resumeWorkerWait: Duration = .seconds(10)

    public init(
        listen: HostPort, token: AuthToken, scratch: String, heartbeat: HeartbeatSettings = HeartbeatSettings(),
        workerWaitTimeout: Duration = .seconds(30), stateDirectory: String? = nil
    ) {
        self.stateDirectory = stateDirectory
        self.listen = listen
        self.token = token
        self.scratch = scratch
        self.heartbeat = heartbeat
        self.workerWaitTimeout = workerWaitTimeout
    }
}

import Glibc
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore

/// Submits plans to a coordinator (`mrsh --cluster HOST:PORT`): one connection per job; standard input is
/// shipped as checksummed blocks; progress and output stream back. Cancelling the calling task (Ctrl-C)
/// sends `cancel` and waits (a few seconds at most) for the coordinator to cancel the job on every worker
/// and close the connection.
public struct ClusterClient: Sendable {
    public let address: HostPort
    let token: AuthToken
    let group: any EventLoopGroup
    /// How long to wait for the coordinator's answer to `cancel`.
    let cancelGrace: Duration
    /// The silence from the coordinator after which the job fails.
    let heartbeatTimeout: Duration
    /// Time between the client's heartbeats to the coordinator.
    public static let heartbeatInterval: Duration = .seconds(1)

    public init(
        address: HostPort, token: AuthToken, group: any EventLoopGroup, cancelGrace: Duration = .seconds(5),
        heartbeatTimeout: Duration = .seconds(15)
    ) {
        self.address = address
        self.token = token
        self.group = group
        self.cancelGrace = cancelGrace
        self.heartbeatTimeout = heartbeatTimeout
    }

    /// Runs `plan` on the cluster. Output blocks (newline-terminated records, in order) go to `output`, which
    /// may suspend (a slow standard output): meanwhile no frame is read, and the connection's receive budget
    /// holds the coordinator back. Throws `EngineError` when the job fails (`invalid` when the coordinator
    /// refused the plan before anything ran, `failed` otherwise, also when the coordinator cannot be reached
    /// or the connection is lost) and `CancellationError` when cancelled. With `record`, the coordinator
    /// sends its record of the run (`JobHistory.Run` as JSON) with the outcome, which goes to `record` before
    /// this returns or throws (nothing when it was too large to send).
    public func run(
        _ plan: JobPlan, standardInput: Int32?, workingDirectory: String, settings: JobSettings? = nil,
        output: (ByteBuffer) async throws -> Void,
        progress: @escaping @Sendable (JobProgress) -> Void,
        record: (@Sendable (String) -> Void)? = nil
    ) async throws -> RunReport {
        let connection: FrameConnection
        do {
            connection = try await FrameClient.connect(to: address, group: group, token: token, role: .client)
        } catch WireError.authenticationFailed {
            throw EngineError.failed("the coordinator at \(address) refused the token (authentication failed)")
        } catch WireError.serverNotAuthenticated {
            throw EngineError.failed(
                "the server at \(address) did not prove the cluster's token: not this cluster's coordinator, or its "
                    + "token file differs (authentication failed)")
        } catch {
            throw EngineError.failed("cannot reach the coordinator at \(address): \(error)")
        }
        defer { Task { await connection.close() } }
        // Heartbeats both ways: the coordinator sees a live client, and a silent coordinator (stopped, or its
        // host gone) ends the job here with an error instead of a hang.
        connection.startHeartbeats(HeartbeatSettings(interval: Self.heartbeatInterval, timeout: heartbeatTimeout))
        var submission = JobSubmission(
            plan: plan, hasStandardInput: standardInput != nil, workingDirectory: workingDirectory, settings: settings)
        submission.wantsRecord = record == nil ? nil : true
        try await connection.send(.submit(submission))
        if let fd = standardInput { try await ship(fd, to: connection) }
        let grace = cancelGrace
        let report: RunReport? = try await withTaskCancellationHandler {
            for try await frame in connection.inbound {
                if frame.kind == .data {
                    do {
                        try await output(try DataBlock.verifiedBytes(of: frame))
                    } catch is CancellationError where Task.isCancelled {
                        // Cancelled while the output was held back (Ctrl-C with a stalled standard output):
                        // finish the cancellation below.
                        return nil
                    }
                    continue
                }
                switch try ControlMessage(frame: frame) {
                case .progress(let report): progress(report)
                case .finished(let report):
                    if let text = report.record { record?(text) }
                    return report
                case .failed(let failure):
                    if let text = failure.record { record?(text) }
                    if failure.cancelled { throw CancellationError() }
                    throw failure.refused ? EngineError.invalid(failure.message) : EngineError.failed(failure.message)
                case .queued, .started: continue
                default: throw WireError.badMessage("unexpected message from the coordinator")
                }
            }
            return nil
        } onCancel: {
            connection.sendSoon(.cancel)
            // The coordinator answers `failed` and closes; do not wait for it forever.
            let channel = connection.channel
            channel.eventLoop.scheduleTask(in: TimeAmount(grace)) { channel.close(promise: nil) }
        }
        if let report { return report }
        if Task.isCancelled {
            // The stream ended because this task was cancelled: wait for the coordinator to finish the
            // cancellation (it closes the connection), so that its files are gone when we return. Nothing
            // reads the frames any more: drop them, so that the coordinator's last writes and its close arrive.
            connection.discardInbound()
            try? await connection.channel.closeFuture.get()
            throw CancellationError()
        }
        throw EngineError.failed("lost the connection to the coordinator at \(address); the job did not finish")
    }

    /// `run` for a session: output to a record sink (awaiting its capacity after each block, so that a sink
    /// that writes later, such as `StandardOutputSink`, bounds what is held), engine progress, the engine's
    /// summary. Failures are `EngineError`, cancellation is `CancellationError`.
    public func runPlan(
        _ plan: JobPlan, standardInput: Int32?, workingDirectory: String, settings: JobSettings?,
        output: some RecordSink, progress: @escaping @Sendable (JobProgress) -> Void,
        record: (@Sendable (String) -> Void)? = nil
    ) async throws -> JobSummary {
        do {
            let report = try await run(
                plan, standardInput: standardInput, workingDirectory: workingDirectory, settings: settings,
                output: { block in
                    try block.withUnsafeReadableBytes { try output.write($0) }
                    try await output.awaitCapacity()
                },
                progress: progress, record: record)
            return report.summary
        } catch let error as WireError {
            throw EngineError.failed("lost the connection to the coordinator at \(address): \(error); the job did not finish")
        }
    }

    /// Sends everything readable from `fd` as data blocks, then `inputEnd`.
    private func ship(_ fd: Int32, to connection: FrameConnection) async throws {
        var buffer = [UInt8](repeating: 0, count: WireLimits.blockSize)
        while true {
            try Task.checkCancellation()
            let n = try buffer.withUnsafeMutableBytes { raw in
                try sys("read", "standard input") { read(fd, raw.baseAddress, raw.count) }
            }
            if n == 0 { break }
            try await connection.send(buffer.withUnsafeBytes { DataBlock.frame(UnsafeRawBufferPointer(rebasing: $0[0..<n])) })
        }
        try await connection.send(.inputEnd)
    }
}

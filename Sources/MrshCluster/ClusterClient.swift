import Glibc
import MrshPlan
import MrshWire
import NIOCore

/// Submits plans to a coordinator (`mrsh --cluster HOST:PORT`): one connection per job; standard input is
/// shipped as checksummed blocks; progress and output stream back. Cancelling the calling task (Ctrl-C)
/// sends `cancel`, and the coordinator cancels the job on every worker.
public struct ClusterClient: Sendable {
    public let address: HostPort
    let token: AuthToken
    let group: any EventLoopGroup

    public init(address: HostPort, token: AuthToken, group: any EventLoopGroup) {
        self.address = address
        self.token = token
        self.group = group
    }

    /// Runs `plan` on the cluster. Output blocks (newline-terminated records, in order) go to `output`.
    /// Throws `ClusterJobError` when the job fails, `CancellationError` when cancelled.
    public func run(
        _ plan: JobPlan, standardInput: Int32?, workingDirectory: String,
        output: @escaping @Sendable (ByteBuffer) throws -> Void,
        progress: @escaping @Sendable (ProgressReport) -> Void
    ) async throws -> RunReport {
        let connection = try await FrameClient.connect(to: address, group: group, token: token, role: .client)
        defer { Task { await connection.close() } }
        try await connection.send(
            .submit(JobSubmission(plan: plan, hasStandardInput: standardInput != nil, workingDirectory: workingDirectory)))
        if let fd = standardInput { try await ship(fd, to: connection) }
        return try await withTaskCancellationHandler {
            for try await frame in connection.inbound {
                if frame.kind == .data {
                    try output(try DataBlock.verifiedBytes(of: frame))
                    continue
                }
                switch try ControlMessage(frame: frame) {
                case .progress(let report): progress(report)
                case .finished(let report): return report
                case .failed(let failure): throw ClusterJobError(failure: failure)
                case .queued, .started: continue
                default: throw WireError.badMessage("unexpected message from the coordinator")
                }
            }
            if Task.isCancelled { throw CancellationError() }
            throw ClusterError("lost the connection to the coordinator at \(address)")
        } onCancel: {
            connection.sendSoon(.cancel)
        }
    }

    /// Sends everything readable from `fd` as data blocks, then `inputEnd`.
    private func ship(_ fd: Int32, to connection: FrameConnection) async throws {
        var buffer = [UInt8](repeating: 0, count: WireLimits.blockSize)
        while true {
            try Task.checkCancellation()
            let n = try buffer.withUnsafeMutableBytes { raw in
                try SystemError.retrying("read", "standard input") { read(fd, raw.baseAddress, raw.count) }
            }
            if n == 0 { break }
            try await connection.send(buffer.withUnsafeBytes { DataBlock.frame(UnsafeRawBufferPointer(rebasing: $0[0..<n])) })
        }
        try await connection.send(.inputEnd)
    }
}

/// A job the coordinator reported as failed.
public struct ClusterJobError: Error, Sendable, CustomStringConvertible {
    public var failure: JobFailure
    public var description: String { failure.message }
}

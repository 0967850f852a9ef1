import Foundation
import MrshControl
import MrshDataPath
import MrshPlan
import Synchronization

/// Runs each job's tasks on Spark (an `ExternalTaskRunner` for `Engine`): the job's map and reduce task
/// specs go to the session's driver program, which runs one Spark task per mrsh map task, shuffles their
/// blocks by partition id and runs one Spark task per reduce partition; the results come back in task order.
public final class SparkTaskRunner: ExternalTaskRunner {
    public let session: SparkSession
    /// The client's working directory, where tasks resolve the plan's relative paths.
    let workingDirectory: String
    private let failed = Atomic<Bool>(false)

    public init(session: SparkSession, workingDirectory: String = FileManager.default.currentDirectoryPath) {
        self.session = session
        self.workingDirectory = workingDirectory
    }

    public var slots: Int { session.parallelism }

    /// True once a job failed on Spark (its log is then worth keeping).
    public var hadFailure: Bool { failed.load(ordering: .relaxed) }

    public func run(_ job: ExternalJob, store: BlobStore) async throws -> ExternalJobResult {
        let encoder = JSONEncoder()
        func text(_ request: SparkTaskRequest) throws -> String {
            String(decoding: try encoder.encode(request), as: UTF8.self)
        }
        let root = store.root.hasPrefix("/") ? store.root : workingDirectory + "/" + store.root
        let request = SparkJobRequest(
            tag: job.jobID.description,
            maps: try job.maps.map { try text(SparkTaskRequest(workingDirectory: workingDirectory, store: root, map: $0)) },
            reduces: try job.reduces.map {
                try text(SparkTaskRequest(workingDirectory: workingDirectory, store: root, reduce: $0))
            })
        let session = self.session
        let answer: SparkJobAnswer
        do {
            answer = try await Offload.run { cancel in try session.submit(request, cancel: cancel) }
        } catch EngineError.cancelled {
            throw CancellationError()
        } catch {
            failed.store(true, ordering: .relaxed)
            throw error
        }
        if let error = answer.error {
            failed.store(true, ordering: .relaxed)
            let cause = answer.task == true ? error : "Spark: \(error)"
            throw EngineError.failed("job \(job.spec.id) failed on Spark: \(cause) (Spark's log: \(session.logPath))")
        }
        let maps: [MapTaskResult] = (answer.maps ?? []).compactMap {
            if case .map(let result) = $0 { return result }
            return nil
        }
        let reduces: [ReduceTaskResult] = (answer.reduces ?? []).compactMap {
            if case .reduce(let result) = $0 { return result }
            return nil
        }
        let now = answer.now ?? Date().timeIntervalSince1970
        let attempts = (answer.attempts ?? []).map { attempt in
            ExternalAttempt(
                phase: attempt.phase == "reduce" ? .reduce : .map, task: attempt.task, attempt: attempt.attempt,
                worker: attempt.worker, startedAgo: now - attempt.start, endedAgo: now - attempt.end)
        }
        // Spark numbers a task's attempts from 0: a winner numbered n followed n failed or lost attempts.
        let retries = attempts.reduce(0) { $0 + $1.attempt }
        return ExternalJobResult(maps: maps, reduces: reduces, retries: retries, attempts: attempts)
    }
}

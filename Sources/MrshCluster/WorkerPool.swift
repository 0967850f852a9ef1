import MrshControl
import MrshDataPath
import MrshPlan

/// The workers registered with a coordinator, and waiting for them; the source of workers that join a
/// running job.
actor WorkerPool: ExecutorSource {
    private var workers: [String: RemoteExecutor] = [:]
    private var order: [String] = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var counter = 0

    /// Makes `proposed` unique among the workers seen so far, and never a reserved holder name ("local",
    /// "coordinator"), so a worker's blobs cannot pass for the coordinator's.
    func uniqueName(_ proposed: String) -> String {
        counter += 1
        let taken = workers[proposed] != nil || order.contains(proposed) || BlobHolder.reservedNames.contains(proposed)
        return taken ? "\(proposed)-\(counter)" : proposed
    }

    func add(_ executor: RemoteExecutor) {
        workers[executor.name] = executor
        order.append(executor.name)
        let ready = waiters.filter { $0.count <= workers.count }
        waiters.removeAll { $0.count <= workers.count }
        for w in ready { w.continuation.resume() }
    }

    func remove(_ name: String) {
        workers.removeValue(forKey: name)
        order.removeAll { $0 == name }
    }

    /// Live workers in registration order.
    var executors: [RemoteExecutor] { order.compactMap { workers[$0] }.filter { !$0.isLost } }

    var count: Int { executors.count }

    func currentExecutors() async -> [any TaskExecutor] { executors }

    /// Where a job finds the workers that join while it runs: for a job with `stream`, only those that run
    /// commands (the registered ones were checked before it started; one without `--allow-stream` joining
    /// later would fail every task it got).
    nonisolated func source(for plan: JobPlan) -> any ExecutorSource {
        plan.streamCommands.isEmpty ? self : CommandRunningWorkers(pool: self)
    }

    /// Returns once at least `count` workers are registered.
    func waitFor(_ count: Int) async {
        if workers.count >= count { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    /// Resumes every `waitFor(_:)` caller (the coordinator stopped: no worker will come).
    func releaseWaiters() {
        let all = waiters
        waiters.removeAll()
        for w in all { w.continuation.resume() }
    }

    /// Returns once every worker named in `names` is registered and live, or after `timeout`.
    func waitFor(names: Set<String>, timeout: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let live = Set(executors.map(\.name))
            if names.isSubset(of: live) { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Like `waitFor(_:)`, but gives up after `timeout` (checking registrations every 20 ms).
    func waitFor(_ count: Int, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while workers.count < count {
            if clock.now >= deadline { throw EngineError.failed("no worker registered within \(Int(timeout.seconds)) s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The workers of a pool that run `stream` commands (`--allow-stream`).
struct CommandRunningWorkers: ExecutorSource {
    let pool: WorkerPool
    func currentExecutors() async -> [any TaskExecutor] { await pool.executors.filter(\.allowsStream) }
}

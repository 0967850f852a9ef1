import Glibc
import Logging
import MrshControl
import MrshDataPath
import MrshPlan
import MrshWire

/// The run a restarted coordinator found unfinished in its journal, until its client attaches (`attach`)
/// or `CoordinatorOptions.clientWait` passes (then the run goes on without a client).
actor RecoveryGate {
    private var pending: JournalState?

    init(pending: JournalState?) { self.pending = pending }

    /// Takes the pending run if it is `run` (once).
    func claim(_ run: String) -> JournalState? {
        guard let state = pending, state.admitted.run == run else { return nil }
        pending = nil
        return state
    }

    /// Takes the pending run, whichever it is (once).
    func take() -> JournalState? {
        defer { pending = nil }
        return pending
    }

    var isPending: Bool { pending != nil }
}

extension CoordinatorServer {
    /// Waits for the client of the journal's unfinished run; when none attaches in time, runs it without one.
    /// The run holds the queue already (`start`).
    func startResuming(_ state: JournalState) {
        let run = state.admitted.run
        let wait = options.clientWait
        logger.info("resuming run \(run) from the journal: waiting up to \(Int(wait.seconds)) s for its client to attach")
        Task {
            let clock = ContinuousClock()
            let deadline = clock.now + wait
            while clock.now < deadline, await recovery.isPending {
                try? await Task.sleep(for: .milliseconds(50))
            }
            guard let state = await recovery.take() else { return }
            logger.info("run \(run): no client attached within \(Int(wait.seconds)) s; it goes on without one")
            defer { if let path = state.admitted.standardInput { unlink(path) } }
            _ = try? await runJob(
                state.admitted.submission, run: run, stdinPath: state.admitted.standardInput, connection: nil,
                iterator: nil, resuming: state)
        }
    }

    /// A client that lost its coordinator takes up its journaled run.
    func attach(_ run: String, connection: FrameConnection, iterator: sending FrameInbound.AsyncIterator) async throws {
        guard let state = await recovery.claim(run) else {
            logger.info("client \(connection.remoteAddress) asked for run \(run), which this coordinator does not have")
            try? await connection.send(
                .failed(
                    JobFailure(
                        message: "the coordinator came back without the job (run \(run)): it has no record of it; "
                            + "the job did not finish")))
            await connection.closeAfterPeer(timeout: .seconds(10))
            return
        }
        logger.info("client \(connection.remoteAddress) attached to run \(run)")
        defer { if let path = state.admitted.standardInput { unlink(path) } }
        let told = try await runJob(
            state.admitted.submission, run: run, stdinPath: state.admitted.standardInput, connection: connection,
            iterator: iterator, resuming: state)
        if told { await connection.closeAfterPeer(timeout: .seconds(10)) }
    }

    /// The run's journal: a new run is admitted (the journal emptied, then the submission written); a resumed
    /// one is marked resumed and waits for the workers holding its map outputs. nil without a state directory.
    func openJournal(
        for submission: JobSubmission, run: String, stdinPath: String?, resuming: JournalState?
    ) async throws -> JournaledRun? {
        guard let journal else { return nil }
        guard let resuming else {
            try journal.reset()
            try journal.append(.admitted(AdmittedRun(run: run, submission: submission, standardInput: stdinPath)))
            return JournaledRun(run: run, journal: journal)
        }
        try journal.append(.resumed(run: run))
        let holders = resuming.holders
        if !holders.isEmpty {
            await pool.waitFor(names: holders, timeout: options.resumeWorkerWait)
        }
        var workers: [String: ReturnedWorker] = [:]
        for executor in await pool.executors {
            workers[executor.name] = ReturnedWorker(shuffleAddress: executor.shuffleAddress, holds: executor.holds)
        }
        let missing = holders.subtracting(workers.keys).sorted()
        if !missing.isEmpty {
            logger.info("run \(run): workers \(missing.joined(separator: ", ")) did not come back; their map outputs are made again")
        }
        return JournaledRun(
            resuming: resuming, journal: journal, workers: workers, store: (runner as? EnginePlanRunner)?.store)
    }
}

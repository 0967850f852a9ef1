import Foundation
import Glibc
import MrshControl
import MrshDataPath
import MrshPlan

/// What a replayed journal says of its run: the run as admitted, how often it was resumed, and the engine's
/// events folded into what a resumed run asks (`RunJournal`).
struct JournalState: Sendable {
    var admitted: AdmittedRun
    var resumes = 0
    var plans: [Int: PlannedJob] = [:]
    var maps: [Int: [Int: MapTaskResult]] = [:]
    var reduces: [Int: [Int: ReduceTaskResult]] = [:]
    var commits: [Int: (parts: [String], report: JobReport)] = [:]
    var finished: [Int: FinishedJob] = [:]

    /// The run the records leave unfinished (the journal is emptied when a run ends), if any.
    init?(_ records: [JournalRecord]) {
        var state: JournalState?
        for record in records {
            switch record {
            case .admitted(let run): state = JournalState(admitted: run)
            case .resumed(let run) where run == state?.admitted.run: state?.resumes += 1
            case .event(let run, let event) where run == state?.admitted.run: state?.apply(event)
            default: continue
            }
        }
        guard let state else { return nil }
        self = state
    }

    private init(admitted: AdmittedRun) { self.admitted = admitted }

    mutating func apply(_ event: RunJournalEvent) {
        switch event {
        case .planned(let plan): plans[plan.job] = plan
        case .mapDone(let job, let result): maps[job, default: [:]][result.task] = result
        case .reduceDone(let job, let result): reduces[job, default: [:]][result.partition] = result
        case .commitStarted(let job, let parts, let report): commits[job] = (parts, report)
        case .finished(let job): finished[job.job] = job
        }
    }

    /// The workers holding map outputs of unfinished jobs: those a resumed run waits for.
    var holders: Set<String> {
        var names = Set<String>()
        for (job, results) in maps where finished[job] == nil && commits[job] == nil {
            for result in results.values {
                if case .worker(let name)? = result.output.blob?.holder { names.insert(name) }
            }
        }
        return names
    }
}

/// A worker as it registered with a restarted coordinator: its shuffle address and the map outputs it holds.
struct ReturnedWorker: Sendable {
    var shuffleAddress: String
    var holds: Set<BlobID>
}

/// The `RunJournal` of one run on a coordinator with a state directory: records go to the journal; a resumed
/// run answers from the replayed state, keeping only the outputs that are still there.
final class JournaledRun: RunJournal {
    let run: String
    let journal: CoordinatorJournal
    let isResuming: Bool
    let firstAttempt: Int
    private let earlier: JournalState?
    private let workers: [String: ReturnedWorker]
    private let store: BlobStore?

    /// A new run (nothing earlier).
    init(run: String, journal: CoordinatorJournal) {
        self.run = run
        self.journal = journal
        isResuming = false
        firstAttempt = 0
        earlier = nil
        workers = [:]
        store = nil
    }

    /// A resumed run: `workers` are the workers registered now, `store` the coordinator's store (kept parts).
    init(resuming state: JournalState, journal: CoordinatorJournal, workers: [String: ReturnedWorker], store: BlobStore?) {
        run = state.admitted.run
        self.journal = journal
        isResuming = true
        // Attempts of each incarnation in their own range (an incarnation starts far fewer attempts of a task).
        firstAttempt = (state.resumes + 1) * 1000
        earlier = state
        self.workers = workers
        self.store = store
    }

    func plannedJob(_ job: Int) -> PlannedJob? { earlier?.plans[job] }

    /// A finished job whose kept parts are all still in the coordinator's store (a committed file is the
    /// user's: it is not checked); else the job runs again from its plan, keeping what survived.
    func finishedJob(_ job: Int) -> FinishedJob? {
        guard let finished = earlier?.finished[job] else { return nil }
        for case .blob(let location, _) in finished.parts where surviving(.blob(location)) == nil { return nil }
        return finished
    }

    func commitInProgress(_ job: Int) -> (parts: [String], report: JobReport)? { earlier?.commits[job] }

    func survivingMaps(_ job: Int) -> [Int: MapTaskResult] { surviving(earlier?.maps[job], \.output) }

    func survivingReduces(_ job: Int) -> [Int: ReduceTaskResult] { surviving(earlier?.reduces[job], \.output) }

    /// The results whose output survives, each pointing at where it now lives.
    private func surviving<Result>(
        _ results: [Int: Result]?, _ output: WritableKeyPath<Result, PartOutput>
    ) -> [Int: Result] {
        var kept: [Int: Result] = [:]
        for (task, result) in results ?? [:] {
            guard let now = surviving(result[keyPath: output]) else { continue }
            var result = result
            result[keyPath: output] = now
            kept[task] = result
        }
        return kept
    }

    func record(_ event: RunJournalEvent) throws {
        try journal.append(.event(run: run, event))
        if let kind = Self.dieAfter, kind == event.kind { raise(SIGKILL) }
    }

    /// Test hook: `MRSH_TEST_COORDINATOR_DIE_AFTER=<kind>` (`commitStarted`, `finished`, ...) makes the
    /// coordinator SIGKILL itself right after journaling the first event of that kind (a crash at a commit's
    /// edges, which no outside timing can hit reliably).
    static let dieAfter: String? = ProcessInfo.processInfo.environment["MRSH_TEST_COORDINATOR_DIE_AFTER"]

    /// Test hook: `MRSH_TEST_COORDINATOR_DIE_AFTER=output:<bytes>` makes a coordinator SIGKILL itself once
    /// that many bytes of a client's output were written to its socket (a crash while output streams).
    static let dieAfterOutput: (@Sendable (Int64) -> Void)? = {
        guard let value = dieAfter, value.hasPrefix("output:"), let limit = Int64(value.dropFirst(7)) else { return nil }
        return { written in if written >= limit { raise(SIGKILL) } }
    }()

    /// The output where it is now: a worker's blob at the worker's current shuffle server, if the worker
    /// came back holding it; a blob of the coordinator's store or a file, if it is still there.
    private func surviving(_ output: PartOutput) -> PartOutput? {
        switch output {
        case .file(let path):
            return FileIO.exists(path) ? output : nil
        case .blob(var location):
            switch location.holder {
            case .worker(let name):
                guard let worker = workers[name], worker.holds.contains(location.id) else { return nil }
                location.address = worker.shuffleAddress
                return .blob(location)
            case .local, .coordinator:
                guard let store, FileIO.exists(store.path(of: location.id)) else { return nil }
                return output
            }
        }
    }
}

extension RunJournalEvent {
    /// The event's name, as the test hook names it.
    var kind: String {
        switch self {
        case .planned: return "planned"
        case .mapDone: return "mapDone"
        case .reduceDone: return "reduceDone"
        case .commitStarted: return "commitStarted"
        case .finished: return "finished"
        }
    }
}

import Foundation
import MrshPlan
import Synchronization

/// What the coordinator remembers of its recent runs, for the status page, `--report` and `/metrics`: each
/// run's jobs (the plan's MapReduce stages) with every task attempt (phase, task, attempt number, worker,
/// start and end in seconds since the run started, outcome, counters of finished attempts, a few log lines),
/// and the workers lost during it.
///
/// Fed by `JobCoordinator` and `JobScheduler` through the few calls below (one lock per call, never per
/// record). Bounded: the last `maxRuns` runs, at most `maxAttemptsPerJob` attempts per job (later ones are
/// counted, not kept) and `maxLogLines` log lines per attempt.
public final class JobHistory: Sendable {
    public enum Phase: String, Sendable, Hashable, Codable {
        case map, reduce
    }

    /// How an attempt ended (or that it has not).
    public enum Outcome: Sendable, Hashable, Codable {
        case running
        /// Its result is the task's.
        case won
        /// Finished after another attempt of its task had won (its result was thrown away).
        case discarded
        /// Failed with this cause (it may run again).
        case failed(String)
        /// Stopped by the coordinator: another attempt won, its worker was lost, the job ended.
        case killed(String)

        public var label: String {
            switch self {
            case .running: return "running"
            case .won: return "succeeded"
            case .discarded: return "discarded"
            case .failed: return "failed"
            case .killed: return "killed"
            }
        }
    }

    public struct Attempt: Sendable, Hashable, Codable {
        public var phase: Phase
        public var task: Int
        public var attempt: Int
        public var worker: String
        /// Started as a backup of a slow attempt (paper, section 3.6).
        public var backup: Bool
        /// Seconds since the run started.
        public var start: Double
        public var end: Double?
        public var outcome: Outcome
        /// The attempt's own counters (finished attempts only).
        public var counters: Counters?
        /// The coordinator's view: where it started, how it ended and why.
        public var log: [String]
        /// What the attempt logged where it ran (`TaskLog`: its input, spills, a `stream` command's standard
        /// error, fetch retries), shipped with its result or failure; empty while it runs or when killed.
        public var workerLog: [String] = []
    }

    public enum State: Sendable, Hashable, Codable {
        case running
        case succeeded
        case failed(String)

        public var label: String {
            switch self {
            case .running: return "running"
            case .succeeded: return "succeeded"
            case .failed: return "failed"
            }
        }
    }

    /// One MapReduce job of a run (a stage of the pipeline).
    public struct Job: Sendable, Codable {
        /// Its id in the plan.
        public var id: Int
        public var description: String
        public var mapTasks: Int
        public var reduceTasks: Int
        public var start: Double
        public var end: Double?
        public var state: State = .running
        public var attempts: [Attempt] = []
        /// Attempts not kept (past `maxAttemptsPerJob`).
        public var droppedAttempts = 0
        /// Counters summed over the winning attempts of each phase.
        public var map = Counters()
        public var reduce = Counters()
    }

    public struct LostWorker: Sendable, Hashable, Codable {
        public var name: String
        public var at: Double
        public var reason: String
        /// Finished tasks that had to run again.
        public var rerun: Int
    }

    /// One run of a plan (what a user calls a job: a pipeline, possibly of several MapReduce jobs).
    public struct Run: Sendable, Codable {
        public var id: String
        /// The statement, when the caller gave it.
        public var title: String
        public var started: Date
        /// Seconds from start to end (nil while running).
        public var elapsed: Double?
        public var state: State = .running
        public var jobs: [Job] = []
        public var lostWorkers: [LostWorker] = []

        public var isRunning: Bool { state == .running }
    }

    /// Finished attempts, for metrics (called outside the lock).
    public struct AttemptEnd: Sendable {
        public var phase: Phase
        public var outcome: Outcome
        public var seconds: Double
        public var counters: Counters?
        /// True for a shuffled job (its map output is shuffled; otherwise it is the job's output).
        public var shuffled: Bool
    }

    public static let maxRuns = 20
    public static let maxAttemptsPerJob = 10_000
    public static let maxLogLines = 16
    /// The most bytes of attempts' worker logs kept per run; later attempts keep none (and say so).
    public static let maxWorkerLogBytesPerRun = 8 << 20

    private struct Entry {
        var run: Run
        let origin: ContinuousClock.Instant
        /// (job id, phase, task, attempt) -> index in the job's attempts.
        var index: [AttemptKey: Int] = [:]
        var jobPosition: [Int: Int] = [:]
        var workerLogBytes = 0
    }

    private struct AttemptKey: Hashable {
        var job: Int
        var phase: Phase
        var task: Int
        var attempt: Int
    }

    private struct Store {
        var entries: [Entry] = []
        var observers: [@Sendable (AttemptEnd) -> Void] = []
        var runObservers: [@Sendable (State) -> Void] = []
    }

    private let store = Mutex(Store())

    public init() {}

    /// Calls `observer` after each attempt ends (from the scheduler's task: keep it short).
    public func onAttemptEnd(_ observer: @escaping @Sendable (AttemptEnd) -> Void) {
        store.withLock { $0.observers.append(observer) }
    }

    /// Calls `observer` with each run's final state.
    public func onRunEnd(_ observer: @escaping @Sendable (State) -> Void) {
        store.withLock { $0.runObservers.append(observer) }
    }

    // MARK: reading

    /// The kept runs, newest first.
    public func runs() -> [Run] {
        store.withLock { $0.entries.reversed().map(\.run) }
    }

    public func run(_ id: String) -> Run? {
        store.withLock { s in s.entries.first { $0.run.id == id }?.run }
    }

    /// The newest run, finished or not.
    public var last: Run? { store.withLock { $0.entries.last?.run } }

    /// Seconds since run `id` started (now, for a running page).
    public func now(of id: String) -> Double? {
        store.withLock { s in s.entries.first { $0.run.id == id }.map { seconds(ContinuousClock.now - $0.origin) } }
    }

    /// Keeps a finished run recorded elsewhere (a coordinator's record, sent to a client for `--report`).
    public func keep(_ run: Run) {
        store.withLock { s in
            s.entries.append(Entry(run: run, origin: .now))
            if s.entries.count > Self.maxRuns { s.entries.removeFirst(s.entries.count - Self.maxRuns) }
        }
    }

    /// The run as JSON for a client (`--report` on a cluster), at most `limit` bytes: without the attempts'
    /// log lines when it would be larger, nil when even that is.
    public func encoded(_ id: String, limit: Int) -> String? {
        guard var run = run(id) else { return nil }
        let encoder = JSONEncoder()
        if let data = try? encoder.encode(run), data.count <= limit { return String(decoding: data, as: UTF8.self) }
        for j in run.jobs.indices {
            for a in run.jobs[j].attempts.indices {
                run.jobs[j].attempts[a].log = []
                run.jobs[j].attempts[a].workerLog = []
            }
        }
        if let data = try? encoder.encode(run), data.count <= limit { return String(decoding: data, as: UTF8.self) }
        return nil
    }

    /// A run from `encoded`.
    public static func decode(_ text: String) -> Run? {
        try? JSONDecoder().decode(Run.self, from: Data(text.utf8))
    }

    // MARK: feeding (coordinator and scheduler)

    package func runStarted(_ id: String, title: String) {
        store.withLock { s in
            s.entries.append(Entry(run: Run(id: id, title: title, started: Date()), origin: .now))
            // Drop the oldest finished runs past the bound (a running one is kept).
            while s.entries.count > Self.maxRuns, let old = s.entries.firstIndex(where: { !$0.run.isRunning }) {
                s.entries.remove(at: old)
            }
        }
    }

    package func runEnded(_ id: String, error: String?) {
        let state: State = error.map { .failed($0) } ?? .succeeded
        let observers = update(id) { entry, now in
            entry.run.elapsed = now
            entry.run.state = state
            for j in entry.run.jobs.indices where entry.run.jobs[j].state == .running {
                entry.run.jobs[j].state = error == nil ? .succeeded : .failed(error ?? "")
                entry.run.jobs[j].end = now
                for a in entry.run.jobs[j].attempts.indices where entry.run.jobs[j].attempts[a].outcome == .running {
                    entry.run.jobs[j].attempts[a].outcome = .killed("the job ended")
                    entry.run.jobs[j].attempts[a].end = now
                }
            }
        }
        guard observers else { return }
        for observer in store.withLock({ $0.runObservers }) { observer(state) }
    }

    package func jobStarted(_ job: JobID, description: String, mapTasks: Int, reduceTasks: Int) {
        update(job.run) { entry, now in
            entry.jobPosition[job.index] = entry.run.jobs.count
            entry.run.jobs.append(
                Job(id: job.index, description: description, mapTasks: mapTasks, reduceTasks: reduceTasks, start: now))
        }
    }

    package func jobEnded(_ job: JobID, map: Counters, reduce: Counters) {
        update(job.run) { entry, now in
            guard let j = entry.jobPosition[job.index] else { return }
            entry.run.jobs[j].end = now
            entry.run.jobs[j].state = .succeeded
            entry.run.jobs[j].map = map
            entry.run.jobs[j].reduce = reduce
        }
    }

    package func attemptStarted(_ job: JobID, phase: Phase, task: Int, attempt: Int, worker: String, backup: Bool) {
        update(job.run) { entry, now in
            guard let j = entry.jobPosition[job.index] else { return }
            guard entry.run.jobs[j].attempts.count < Self.maxAttemptsPerJob else {
                entry.run.jobs[j].droppedAttempts += 1
                return
            }
            let key = AttemptKey(job: job.index, phase: phase, task: task, attempt: attempt)
            entry.index[key] = entry.run.jobs[j].attempts.count
            let line = stamp(now) + "started on \(worker)" + (backup ? " (backup)" : "")
            entry.run.jobs[j].attempts.append(
                Attempt(
                    phase: phase, task: task, attempt: attempt, worker: worker, backup: backup, start: now, end: nil,
                    outcome: .running, counters: nil, log: [line]))
        }
    }

    /// An attempt ended; the first end of an attempt counts (a killed attempt's late report is ignored).
    package func attemptEnded(
        _ job: JobID, phase: Phase, task: Int, attempt: Int, outcome: Outcome, counters: Counters?, shuffled: Bool,
        workerLog: [String] = []
    ) {
        var ended: AttemptEnd?
        update(job.run) { entry, now in
            guard let j = entry.jobPosition[job.index],
                let a = entry.index[AttemptKey(job: job.index, phase: phase, task: task, attempt: attempt)]
            else { return }
            guard entry.run.jobs[j].attempts[a].outcome == .running else { return }
            entry.run.jobs[j].attempts[a].outcome = outcome
            entry.run.jobs[j].attempts[a].end = now
            entry.run.jobs[j].attempts[a].counters = counters
            let bytes = workerLog.reduce(0) { $0 + $1.utf8.count }
            if entry.workerLogBytes + bytes <= Self.maxWorkerLogBytesPerRun {
                entry.workerLogBytes += bytes
                entry.run.jobs[j].attempts[a].workerLog = workerLog
            } else if !workerLog.isEmpty {
                entry.run.jobs[j].attempts[a].workerLog = ["(not kept: this run's attempts logged more than \(Self.maxWorkerLogBytesPerRun >> 20) MiB)"]
            }
            let text: String
            switch outcome {
            case .running: text = "running"
            case .won: text = "succeeded"
            case .discarded: text = "finished after another attempt won: discarded"
            case .failed(let cause): text = "failed: \(cause)"
            case .killed(let why): text = "killed: \(why)"
            }
            Self.append(stamp(now) + text, to: &entry.run.jobs[j].attempts[a].log)
            ended = AttemptEnd(
                phase: phase, outcome: outcome, seconds: now - entry.run.jobs[j].attempts[a].start, counters: counters,
                shuffled: shuffled)
        }
        guard let ended else { return }
        for observer in store.withLock({ $0.observers }) { observer(ended) }
    }

    /// An attempt another engine ran and reported afterwards (`ExternalAttempt`): it started `startedAgo` and
    /// ended `endedAgo` seconds before now, and won.
    package func attemptReported(
        _ job: JobID, _ reported: ExternalAttempt, counters: Counters?, shuffled: Bool
    ) {
        var ended: AttemptEnd?
        update(job.run) { entry, now in
            guard let j = entry.jobPosition[job.index] else { return }
            guard entry.run.jobs[j].attempts.count < Self.maxAttemptsPerJob else {
                entry.run.jobs[j].droppedAttempts += 1
                return
            }
            // Another machine's clock: kept within the job's own span.
            let jobStart = entry.run.jobs[j].start
            let start = min(now, max(jobStart, now - reported.startedAgo))
            let end = min(now, max(start, now - reported.endedAgo))
            let key = AttemptKey(job: job.index, phase: reported.phase, task: reported.task, attempt: reported.attempt)
            entry.index[key] = entry.run.jobs[j].attempts.count
            entry.run.jobs[j].attempts.append(
                Attempt(
                    phase: reported.phase, task: reported.task, attempt: reported.attempt, worker: reported.worker,
                    backup: false, start: start, end: end, outcome: .won, counters: counters,
                    log: [stamp(start) + "started on \(reported.worker)", stamp(end) + "succeeded"]))
            ended = AttemptEnd(
                phase: reported.phase, outcome: .won, seconds: end - start, counters: counters, shuffled: shuffled)
        }
        guard let ended else { return }
        for observer in store.withLock({ $0.observers }) { observer(ended) }
    }

    package func workerLost(_ run: String, worker: String, reason: String, rerun: Int) {
        update(run) { entry, now in
            entry.run.lostWorkers.append(LostWorker(name: worker, at: now, reason: reason, rerun: rerun))
        }
    }

    private static func append(_ line: String, to log: inout [String]) {
        if log.count >= maxLogLines { log.remove(at: 1) }
        log.append(line)
    }

    /// Runs `body` on run `id`'s entry with the seconds since it started; false when it is not kept.
    @discardableResult
    private func update(_ id: String, _ body: (inout Entry, Double) -> Void) -> Bool {
        store.withLock { s in
            guard let i = s.entries.lastIndex(where: { $0.run.id == id }) else { return false }
            body(&s.entries[i], seconds(ContinuousClock.now - s.entries[i].origin))
            return true
        }
    }
}

/// "  12.345 s  ": a log line's time since the run started.
private func stamp(_ seconds: Double) -> String {
    let millis = Int((seconds * 1000).rounded())
    let text = "\(millis / 1000).\(String(1000 + millis % 1000).dropFirst()) s"
    return String(repeating: " ", count: max(0, 10 - text.count)) + text + "  "
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

extension JobHistory {
    /// "read logs/* | shuffle aggregate(count) | write out/": a job's inputs, shuffle and output in a line.
    public static func describe(_ spec: JobSpec) -> String {
        let inputs = spec.sources.map { source -> String in
            switch source.input {
            case .files(let patterns): return "read " + patterns.joined(separator: " ")
            case .standardInput: return "read standard input"
            case .job(let earlier): return "read job \(earlier)"
            }
        }
        var parts = [inputs.joined(separator: " + ")]
        if let shuffle = spec.shuffle {
            let text = String(describing: shuffle).replacingOccurrences(of: "MrshPlan.", with: "")
            parts.append("shuffle " + (text.count > 60 ? text.prefix(57) + "..." : text))
        } else {
            parts.append("map only")
        }
        switch spec.output {
        case .intermediate: parts.append("to the next job")
        case .standardOutput: parts.append("to standard output")
        case .directory(let path, _): parts.append("write " + path)
        }
        return parts.joined(separator: " | ")
    }
}

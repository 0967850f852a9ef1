/// The lifecycle of the tasks of one phase (the map or the reduce tasks of a job) over a set of
/// executors with task slots: a pure state machine, no threads, clocks or I/O. The coordinator feeds it
/// events (`schedule`, `succeeded`, `failed`, `executorLost`, `reopen`) and carries out the actions it
/// returns.
///
/// A task is idle (waiting, possibly after failures), running (one attempt, or several with backups),
/// done, or failed for good after `maxAttempts` failures. A failed attempt is re-queued and preferably
/// scheduled on an executor where the task has not failed yet. Attempt numbers grow per task, so every
/// attempt writes under its own name. The first attempt to succeed wins; the task's other running
/// attempts are abandoned (`takeAbandoned()`), and their later reports are ignored.
///
/// Failures that are not the task's fault (its executor was lost, an input it needed vanished with a
/// lost worker) are reported with `counts: false` and do not use up attempts. A lost executor gets no
/// more work; a done task whose output was lost can be reopened.
public struct TaskBoard: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case idle
        /// Running; the attempt started last.
        case running(executor: Int, attempt: Int)
        case done(attempt: Int)
        case failed
    }

    /// Start task `task` as attempt `attempt` on executor `executor`.
    public struct Assignment: Sendable, Equatable, Hashable {
        public var task: Int
        public var executor: Int
        public var attempt: Int
        public init(task: Int, executor: Int, attempt: Int) {
            self.task = task
            self.executor = executor
            self.attempt = attempt
        }
    }

    public enum FailureAction: Sendable, Equatable {
        /// The task is idle again (or still running elsewhere) and will be scheduled again as needed.
        case retry
        /// The task failed `attempts` times: the phase (and job) fails.
        case giveUp(attempts: Int)
        /// A stale report (the attempt is not a running one): nothing to do.
        case ignore
    }

    public private(set) var states: [State]
    public private(set) var freeSlots: [Int]
    public let maxAttempts: Int
    private var capacity: [Int]
    private var lost: Set<Int> = []
    private var attemptsStarted: [Int]
    private var failures: [Int]
    private var failedOn: [Set<Int>]
    /// The running attempts of each task (more than one with backups).
    private var live: [[Assignment]]
    /// Attempts that lost to another attempt of their task; the coordinator cancels them.
    private var abandoned: [Assignment] = []
    /// Idle tasks in the order they will be scheduled (re-queued tasks go to the front).
    private var queue: [Int]
    /// The executor each task would rather run on (it holds the task's input), if any.
    private var preferred: [Int: Int] = [:]

    public init(taskCount: Int, executorSlots: [Int], maxAttempts: Int = 3) {
        states = Array(repeating: .idle, count: taskCount)
        freeSlots = executorSlots.map { max(0, $0) }
        capacity = freeSlots
        self.maxAttempts = max(1, maxAttempts)
        attemptsStarted = Array(repeating: 0, count: taskCount)
        failures = Array(repeating: 0, count: taskCount)
        failedOn = Array(repeating: [], count: taskCount)
        live = Array(repeating: [], count: taskCount)
        queue = Array((0..<taskCount).reversed())  // popped from the end
    }

    public var isComplete: Bool {
        states.allSatisfy { if case .done = $0 { return true } else { return false } }
    }

    public var doneCount: Int {
        states.reduce(0) { count, state in if case .done = state { return count + 1 } else { return count } }
    }

    public var runningCount: Int {
        states.reduce(0) { count, state in if case .running = state { return count + 1 } else { return count } }
    }

    /// Every attempt now running.
    public var runningAttempts: [Assignment] { live.flatMap { $0 } }

    /// True when no idle task waits for a slot (the end of the phase, where backups start).
    public var hasNoIdleTask: Bool { queue.isEmpty }

    /// Executors that can still run tasks (not lost, with slots).
    public var usableExecutors: Int { capacity.indices.filter { capacity[$0] > 0 && !lost.contains($0) }.count }

    /// Adds an executor (a worker that joined late); returns its index.
    public mutating func addExecutor(slots: Int) -> Int {
        capacity.append(max(0, slots))
        freeSlots.append(max(0, slots))
        return capacity.count - 1
    }

    /// Makes `executor` the preferred one of `task` (locality): `schedule()` gives the task to it when it
    /// has a free slot (and the task has not failed there), else to any executor as usual.
    public mutating func prefer(_ task: Int, executor: Int) {
        guard task >= 0 && task < states.count, executor >= 0 else { return }
        preferred[task] = executor
    }

    /// Assigns idle tasks to free slots, first those whose preferred executor has a free slot;
    /// returns the attempts to start now.
    public mutating func schedule() -> [Assignment] {
        var assignments: [Assignment] = []
        if !preferred.isEmpty {
            for task in queue.reversed() {
                guard let executor = preferred[task], executor < freeSlots.count, freeSlots[executor] > 0,
                    !lost.contains(executor), !failedOn[task].contains(executor)
                else { continue }
                queue.removeAll { $0 == task }
                assignments.append(start(task, on: executor))
            }
        }
        var deferred: [Int] = []
        while let task = queue.popLast() {
            guard let executor = chooseExecutor(for: task, excluding: []) else {
                deferred.append(task)
                if !freeSlots.contains(where: { $0 > 0 }) { break }
                continue
            }
            assignments.append(start(task, on: executor))
        }
        queue.append(contentsOf: deferred.reversed())
        return assignments
    }

    /// Backup attempts (paper, section 3.6): once no task is idle, starts a second attempt of each running
    /// task with a single attempt for which `eligible` holds, on a free executor other than the one running
    /// it. Returns the attempts to start now.
    public mutating func scheduleBackups(eligible: (Assignment) -> Bool) -> [Assignment] {
        guard queue.isEmpty else { return [] }
        var assignments: [Assignment] = []
        for task in states.indices where live[task].count == 1 {
            guard freeSlots.contains(where: { $0 > 0 }) else { break }
            let running = live[task][0]
            guard eligible(running) else { continue }
            guard let executor = chooseExecutor(for: task, excluding: [running.executor], strict: true) else { continue }
            assignments.append(start(task, on: executor))
        }
        return assignments
    }

    private mutating func start(_ task: Int, on executor: Int) -> Assignment {
        let attempt = attemptsStarted[task]
        attemptsStarted[task] += 1
        freeSlots[executor] -= 1
        states[task] = .running(executor: executor, attempt: attempt)
        let assignment = Assignment(task: task, executor: executor, attempt: attempt)
        live[task].append(assignment)
        return assignment
    }

    /// Records a successful attempt; false when the report is stale (ignored). The task's other running
    /// attempts are abandoned (see `takeAbandoned()`).
    @discardableResult
    public mutating func succeeded(_ assignment: Assignment) -> Bool {
        guard removeLive(assignment) else { return false }
        if case .done = states[assignment.task] { return false }
        states[assignment.task] = .done(attempt: assignment.attempt)
        for other in live[assignment.task] {
            release(other.executor)
            abandoned.append(other)
        }
        live[assignment.task] = []
        return true
    }

    /// The attempts abandoned since the last call (losers of a race with a backup): cancel them.
    public mutating func takeAbandoned() -> [Assignment] {
        defer { abandoned = [] }
        return abandoned
    }

    /// Records a failed attempt. `counts: false` for failures that are not the task's fault (they neither
    /// use up an attempt nor mark the executor as one to avoid).
    public mutating func failed(_ assignment: Assignment, counts: Bool = true) -> FailureAction {
        guard removeLive(assignment) else { return .ignore }
        if counts {
            failures[assignment.task] += 1
            failedOn[assignment.task].insert(assignment.executor)
            if failures[assignment.task] >= maxAttempts {
                for other in live[assignment.task] {
                    release(other.executor)
                    abandoned.append(other)
                }
                live[assignment.task] = []
                states[assignment.task] = .failed
                return .giveUp(attempts: failures[assignment.task])
            }
        }
        if live[assignment.task].isEmpty {
            states[assignment.task] = .idle
            queue.append(assignment.task)
        }
        return .retry
    }

    /// The executor is gone: it gets no more work, and its running attempts are dropped (their tasks are
    /// idle again unless another attempt runs). Returns the dropped attempts.
    @discardableResult
    public mutating func executorLost(_ executor: Int) -> [Assignment] {
        guard executor >= 0 && executor < capacity.count, !lost.contains(executor) else { return [] }
        lost.insert(executor)
        freeSlots[executor] = 0
        var dropped: [Assignment] = []
        for task in states.indices {
            let mine = live[task].filter { $0.executor == executor }
            guard !mine.isEmpty else { continue }
            dropped += mine
            live[task].removeAll { $0.executor == executor }
            if live[task].isEmpty, case .running = states[task] {
                states[task] = .idle
                queue.append(task)
            }
        }
        return dropped
    }

    public func isLost(_ executor: Int) -> Bool { lost.contains(executor) }

    /// A done task whose output was lost runs again (preferably not on `avoid`). False when it was not done.
    @discardableResult
    public mutating func reopen(_ task: Int, avoid: Int? = nil) -> Bool {
        guard case .done = states[task] else { return false }
        states[task] = .idle
        if let avoid { failedOn[task].insert(avoid) }
        queue.append(task)
        return true
    }

    private mutating func removeLive(_ assignment: Assignment) -> Bool {
        guard let index = live[assignment.task].firstIndex(of: assignment) else { return false }
        live[assignment.task].remove(at: index)
        release(assignment.executor)
        return true
    }

    private mutating func release(_ executor: Int) {
        if !lost.contains(executor) { freeSlots[executor] = min(capacity[executor], freeSlots[executor] + 1) }
    }

    /// A free executor for `task`: one where it has not failed if possible, the one with most free slots.
    /// `strict`: never one where it failed.
    private func chooseExecutor(for task: Int, excluding: Set<Int>, strict: Bool = false) -> Int? {
        var best: Int?
        var bestFresh: Int?
        for (executor, slots) in freeSlots.enumerated() where slots > 0 && !excluding.contains(executor) {
            if best == nil || slots > freeSlots[best ?? 0] { best = executor }
            if !failedOn[task].contains(executor), bestFresh == nil || slots > freeSlots[bestFresh ?? 0] {
                bestFresh = executor
            }
        }
        if let bestFresh { return bestFresh }
        if strict { return nil }
        // Only executors where it failed are free: use one if every live executor has failed it, else wait.
        let usable = capacity.indices.filter { capacity[$0] > 0 && !lost.contains($0) }
        let allFailed = usable.allSatisfy { failedOn[task].contains($0) }
        return allFailed ? best : nil
    }
}

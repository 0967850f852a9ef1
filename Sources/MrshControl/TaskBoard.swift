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
        /// Running: its live attempts, in the order they started (more than one with backups).
        case running([Assignment])
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

    /// One task: its state and what its history decides about its next attempt.
    private struct Entry: Sendable, Equatable {
        var state: State = .idle
        /// Attempts started so far: the number of the next one.
        var attemptsStarted = 0
        /// Failures that count against `maxAttempts`.
        var failures = 0
        /// Executors to avoid: where an attempt failed, or that held an output that was lost.
        var avoid: Set<Int> = []
        /// The executor the task would rather run on (it holds the task's input), if any.
        var preferred: Int?

        /// The running attempts (none unless running).
        var live: [Assignment] {
            if case .running(let attempts) = state { return attempts }
            return []
        }
    }

    /// One executor's slots for this phase, and whether it was lost (the one record of that).
    private struct Executor: Sendable, Equatable {
        var capacity: Int
        var free: Int
        var lost = false
        /// The tasks with an attempt running here (and how many: normally one), so that a lost executor's
        /// attempts are found without a pass over every running task.
        var tasks: [Int: Int] = [:]
        /// Bumped on every change of `free` or `lost`: entries of `ready` with an older version are stale.
        var version = 0
        var isUsable: Bool { capacity > 0 && !lost }
        var running: Int { capacity - free }
    }

    /// An executor with a free slot, as queued in `ready` (valid while `version` is the executor's).
    private struct ReadyEntry: Sendable, Equatable {
        var executor: Int
        var version: Int
    }

    /// A first-in, first-out queue of executors that popped entries leave in amortized O(1).
    private struct ReadyQueue: Sendable, Equatable {
        var entries: [ReadyEntry] = []
        var head = 0
        var count: Int { entries.count - head }
        mutating func append(_ entry: ReadyEntry) { entries.append(entry) }
        mutating func dropHead() {
            head += 1
            if head >= 1024 && head * 2 >= entries.count {
                entries.removeFirst(head)
                head = 0
            }
        }
    }

    public let maxAttempts: Int
    private var tasks: [Entry]
    private var executors: [Executor]
    /// Idle tasks in the order they will be scheduled (re-queued tasks go to the front; popped from the end).
    private var queue: [Int]
    /// Attempts that lost to another attempt of their task; the coordinator cancels them.
    private var abandoned: [Assignment] = []
    /// True once some task has a preferred executor.
    private var hasPreferences = false
    /// Executors with a free slot, by how many attempts they run (`ready[n]`: those running n), each
    /// queue in the order the executors reached that load: the front of the first non-empty queue is the
    /// least-loaded executor that has been so the longest. Executors enter a queue on every change of
    /// their load; entries left behind are stale (their version is old) and skipped.
    private var ready: [ReadyQueue] = []
    /// Free slots of usable executors, tasks done, tasks running, usable executors: kept as counts so that no
    /// event costs a pass over every task or executor.
    private var totalFree = 0
    public private(set) var doneCount = 0
    private var usableCount = 0
    /// The tasks with at least one running attempt.
    private var runningTasks = Set<Int>()

    /// `firstAttempt`: the number of every task's first attempt (a resumed run's are above its earlier ones).
    public init(taskCount: Int, executorSlots: [Int], maxAttempts: Int = 3, firstAttempt: Int = 0) {
        tasks = Array(repeating: Entry(attemptsStarted: max(0, firstAttempt)), count: taskCount)
        executors = []
        self.maxAttempts = max(1, maxAttempts)
        queue = Array((0..<taskCount).reversed())
        for slots in executorSlots { _ = addExecutor(slots: slots) }
    }

    /// Each task's state, in task order.
    public var states: [State] { tasks.map(\.state) }

    /// The state of one task.
    public func state(of task: Int) -> State { tasks[task].state }

    /// True when `task` is done.
    public func isDone(_ task: Int) -> Bool {
        if case .done = tasks[task].state { return true }
        return false
    }

    /// Each executor's free slots (0 for a lost one).
    public var freeSlots: [Int] { executors.map(\.free) }

    public var isComplete: Bool { doneCount == tasks.count }

    public var runningCount: Int { runningTasks.count }

    /// Executors that can still run tasks (not lost, with slots).
    public var usableExecutors: Int { usableCount }

    /// Adds an executor (a worker that joined late); returns its index.
    public mutating func addExecutor(slots: Int) -> Int {
        let executor = Executor(capacity: max(0, slots), free: max(0, slots))
        executors.append(executor)
        let index = executors.count - 1
        if executor.isUsable {
            usableCount += 1
            totalFree += executor.free
            enqueueReady(index)
        }
        return index
    }

    /// Makes `executor` the preferred one of `task` (locality): `schedule()` gives the task to it when it
    /// has a free slot (and the task has not failed there), else to any executor as usual.
    public mutating func prefer(_ task: Int, executor: Int) {
        guard task >= 0 && task < tasks.count, executor >= 0 else { return }
        tasks[task].preferred = executor
        hasPreferences = true
    }

    /// Assigns idle tasks to free slots, first those whose preferred executor has a free slot, then each to
    /// the least-loaded executor with a free slot (ties: the one at that load the longest, so an idle
    /// executor that waited longest goes first); returns the attempts to start now.
    public mutating func schedule() -> [Assignment] {
        var assignments: [Assignment] = []
        if hasPreferences && totalFree > 0 {
            var placed = Set<Int>()
            for task in queue.reversed() {
                guard let executor = tasks[task].preferred, executor < executors.count, executors[executor].free > 0,
                    !executors[executor].lost, !tasks[task].avoid.contains(executor)
                else { continue }
                placed.insert(task)
                assignments.append(start(task, on: executor))
            }
            if !placed.isEmpty { queue.removeAll { placed.contains($0) } }
        }
        var deferred: [Int] = []
        while totalFree > 0, let task = queue.popLast() {
            guard let executor = chooseExecutor(for: task, excluding: []) else {
                deferred.append(task)
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
        guard queue.isEmpty, totalFree > 0 else { return [] }
        var assignments: [Assignment] = []
        // In no particular order (a sort per event would cost more than the backups it orders).
        for task in runningTasks {
            guard case .running(let attempts) = tasks[task].state, attempts.count == 1 else { continue }
            guard totalFree > 0 else { break }
            let running = attempts[0]
            guard eligible(running) else { continue }
            guard let executor = chooseExecutor(for: task, excluding: [running.executor], strict: true) else { continue }
            assignments.append(start(task, on: executor))
        }
        return assignments
    }

    private mutating func start(_ task: Int, on executor: Int) -> Assignment {
        let assignment = Assignment(task: task, executor: executor, attempt: tasks[task].attemptsStarted)
        tasks[task].attemptsStarted += 1
        executors[executor].free -= 1
        executors[executor].tasks[task, default: 0] += 1
        totalFree -= 1
        changed(executor)
        tasks[task].state = .running(tasks[task].live + [assignment])
        runningTasks.insert(task)
        return assignment
    }

    /// Records a successful attempt; false when the report is stale (ignored). The task's other running
    /// attempts are abandoned (see `takeAbandoned()`).
    @discardableResult
    public mutating func succeeded(_ assignment: Assignment) -> Bool {
        guard let others = removeLive(assignment) else { return false }
        abandon(others)
        setState(assignment.task, .done(attempt: assignment.attempt))
        return true
    }

    /// The attempts abandoned since the last call (losers of a race with a backup): cancel them.
    public mutating func takeAbandoned() -> [Assignment] {
        if abandoned.isEmpty { return [] }
        defer { abandoned = [] }
        return abandoned
    }

    /// Records a failed attempt. `counts: false` for failures that are not the task's fault (they neither
    /// use up an attempt nor mark the executor as one to avoid).
    public mutating func failed(_ assignment: Assignment, counts: Bool = true) -> FailureAction {
        guard let others = removeLive(assignment) else { return .ignore }
        let task = assignment.task
        if counts {
            tasks[task].failures += 1
            tasks[task].avoid.insert(assignment.executor)
            if tasks[task].failures >= maxAttempts {
                abandon(others)
                setState(task, .failed)
                return .giveUp(attempts: tasks[task].failures)
            }
        }
        if others.isEmpty {
            setState(task, .idle)
            queue.append(task)
        } else {
            setState(task, .running(others))
        }
        return .retry
    }

    /// The executor is gone: it gets no more work, and its running attempts are dropped (their tasks are
    /// idle again unless another attempt runs). Returns the dropped attempts.
    @discardableResult
    public mutating func executorLost(_ executor: Int) -> [Assignment] {
        guard executor >= 0 && executor < executors.count, !executors[executor].lost else { return [] }
        if executors[executor].isUsable { usableCount -= 1 }
        totalFree -= executors[executor].free
        executors[executor].lost = true
        executors[executor].free = 0
        changed(executor)
        var dropped: [Assignment] = []
        let here = executors[executor].tasks.keys.sorted()
        executors[executor].tasks = [:]
        for task in here {
            guard case .running(let attempts) = tasks[task].state else { continue }
            let mine = attempts.filter { $0.executor == executor }
            guard !mine.isEmpty else { continue }
            dropped += mine
            let others = attempts.filter { $0.executor != executor }
            if others.isEmpty {
                setState(task, .idle)
                queue.append(task)
            } else {
                setState(task, .running(others))
            }
        }
        return dropped
    }

    public func isLost(_ executor: Int) -> Bool {
        executor >= 0 && executor < executors.count && executors[executor].lost
    }

    /// Marks idle tasks done without running them (a resumed run's tasks whose output survived); others
    /// are left as they are.
    public mutating func markDone(_ done: Set<Int>) {
        guard !done.isEmpty else { return }
        var marked = Set<Int>()
        for task in done where task >= 0 && task < tasks.count && tasks[task].state == .idle {
            setState(task, .done(attempt: tasks[task].attemptsStarted - 1))
            marked.insert(task)
        }
        queue.removeAll { marked.contains($0) }
    }

    /// A done task whose output was lost runs again (preferably not on `avoid`). False when it was not done.
    @discardableResult
    public mutating func reopen(_ task: Int, avoid: Int? = nil) -> Bool {
        guard case .done = tasks[task].state else { return false }
        setState(task, .idle)
        if let avoid { tasks[task].avoid.insert(avoid) }
        queue.append(task)
        return true
    }

    /// Sets a task's state, keeping the counts.
    private mutating func setState(_ task: Int, _ state: State) {
        if case .done = tasks[task].state { doneCount -= 1 }
        if case .done = state { doneCount += 1 }
        if case .running = state { runningTasks.insert(task) } else { runningTasks.remove(task) }
        tasks[task].state = state
    }

    /// Takes a running attempt off its task and frees its slot; returns the task's other running attempts,
    /// or nil when `assignment` is not a running attempt (a stale report). The caller sets the task's state.
    private mutating func removeLive(_ assignment: Assignment) -> [Assignment]? {
        guard case .running(var attempts) = tasks[assignment.task].state,
            let index = attempts.firstIndex(of: assignment)
        else { return nil }
        attempts.remove(at: index)
        release(assignment)
        return attempts
    }

    /// Drops the losers of a task that finished (or failed for good) and frees their slots.
    private mutating func abandon(_ attempts: [Assignment]) {
        for other in attempts {
            release(other)
            abandoned.append(other)
        }
    }

    private mutating func release(_ assignment: Assignment) {
        let executor = assignment.executor
        if let count = executors[executor].tasks[assignment.task] {
            executors[executor].tasks[assignment.task] = count > 1 ? count - 1 : nil
        }
        guard !executors[executor].lost, executors[executor].free < executors[executor].capacity else { return }
        executors[executor].free += 1
        totalFree += 1
        changed(executor)
    }

    /// The executor's load changed: its old entry in `ready` is stale; with a free slot it queues again.
    private mutating func changed(_ executor: Int) {
        executors[executor].version += 1
        if executors[executor].free > 0 && !executors[executor].lost { enqueueReady(executor) }
    }

    private mutating func enqueueReady(_ executor: Int) {
        let load = executors[executor].running
        while ready.count <= load { ready.append(ReadyQueue()) }
        ready[load].append(ReadyEntry(executor: executor, version: executors[executor].version))
        // Stale entries behind a long-lived front entry are dropped by a rebuild once they dominate.
        if ready[load].count > 4 * executors.count + 64 { rebuildReady() }
    }

    /// Rebuilds `ready` from the executors (each with a free slot once, in index order within a load).
    private mutating func rebuildReady() {
        var fronts: [[ReadyEntry]] = []
        for queue in ready {
            var seen = Set<Int>()
            var kept: [ReadyEntry] = []
            for entry in queue.entries[queue.head...] where isCurrent(entry) && seen.insert(entry.executor).inserted {
                kept.append(entry)
            }
            fronts.append(kept)
        }
        ready = fronts.map { ReadyQueue(entries: $0, head: 0) }
    }

    private func isCurrent(_ entry: ReadyEntry) -> Bool {
        let executor = executors[entry.executor]
        return executor.version == entry.version && executor.free > 0 && !executor.lost
    }

    /// A free executor for `task`: the least-loaded one (ties: the one at that load the longest) where it has
    /// not failed if possible. `strict`: never one where it failed.
    private mutating func chooseExecutor(for task: Int, excluding: Set<Int>, strict: Bool = false) -> Int? {
        let avoid = tasks[task].avoid
        var best: Int?
        for load in ready.indices {
            // Stale entries at the front go for good.
            while ready[load].count > 0, !isCurrent(ready[load].entries[ready[load].head]) { ready[load].dropHead() }
            var position = ready[load].head
            while position < ready[load].entries.count {
                let entry = ready[load].entries[position]
                position += 1
                guard isCurrent(entry), !excluding.contains(entry.executor) else { continue }
                if best == nil { best = entry.executor }
                if !avoid.contains(entry.executor) { return entry.executor }
            }
        }
        if strict { return nil }
        // Only executors where it failed are free: use one if every live executor has failed it, else wait.
        let allFailed = executors.indices.allSatisfy { !executors[$0].isUsable || avoid.contains($0) }
        return allFailed ? best : nil
    }
}

/// The lifecycle of the tasks of one phase (the map or the reduce tasks of a job) over a set of
/// executors with task slots: a pure state machine, no threads or I/O. The coordinator feeds it events
/// (`schedule`, `succeeded`, `failed`) and carries out the actions it returns.
///
/// A task is idle (waiting, possibly after failures), running (on an executor, as attempt N), done, or
/// failed for good after `maxAttempts`. A failed attempt is re-queued and preferably scheduled on an
/// executor where the task has not failed yet. Attempt numbers grow per task, so every attempt writes
/// under its own name. A second completion of a task that is already done is ignored.
public struct TaskBoard: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case idle
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
        /// The task is idle again and will be scheduled by the next `schedule()`.
        case retry
        /// The task failed `attempts` times: the phase (and job) fails.
        case giveUp(attempts: Int)
        /// A stale report (the attempt is not the running one): nothing to do.
        case ignore
    }

    public private(set) var states: [State]
    public private(set) var freeSlots: [Int]
    public let maxAttempts: Int
    private let capacity: [Int]
    private var attemptsStarted: [Int]
    private var failedOn: [Set<Int>]
    /// Idle tasks in the order they will be scheduled (re-queued tasks go to the front).
    private var queue: [Int]

    public init(taskCount: Int, executorSlots: [Int], maxAttempts: Int = 3) {
        states = Array(repeating: .idle, count: taskCount)
        freeSlots = executorSlots.map { max(0, $0) }
        capacity = freeSlots
        self.maxAttempts = max(1, maxAttempts)
        attemptsStarted = Array(repeating: 0, count: taskCount)
        failedOn = Array(repeating: [], count: taskCount)
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

    /// Assigns idle tasks to free slots; returns the attempts to start now.
    public mutating func schedule() -> [Assignment] {
        var assignments: [Assignment] = []
        var deferred: [Int] = []
        while let task = queue.popLast() {
            guard let executor = chooseExecutor(for: task) else {
                deferred.append(task)
                if !freeSlots.contains(where: { $0 > 0 }) { break }
                continue
            }
            let attempt = attemptsStarted[task]
            attemptsStarted[task] += 1
            freeSlots[executor] -= 1
            states[task] = .running(executor: executor, attempt: attempt)
            assignments.append(Assignment(task: task, executor: executor, attempt: attempt))
        }
        queue.append(contentsOf: deferred.reversed())
        return assignments
    }

    /// Records a successful attempt; false when the report is stale (ignored).
    @discardableResult
    public mutating func succeeded(_ assignment: Assignment) -> Bool {
        guard states[assignment.task] == .running(executor: assignment.executor, attempt: assignment.attempt) else {
            return false
        }
        freeSlots[assignment.executor] += 1
        states[assignment.task] = .done(attempt: assignment.attempt)
        return true
    }

    /// Records a failed attempt.
    public mutating func failed(_ assignment: Assignment) -> FailureAction {
        guard states[assignment.task] == .running(executor: assignment.executor, attempt: assignment.attempt) else {
            return .ignore
        }
        freeSlots[assignment.executor] += 1
        failedOn[assignment.task].insert(assignment.executor)
        if attemptsStarted[assignment.task] >= maxAttempts {
            states[assignment.task] = .failed
            return .giveUp(attempts: attemptsStarted[assignment.task])
        }
        states[assignment.task] = .idle
        queue.append(assignment.task)
        return .retry
    }

    /// A free executor for `task`: one where it has not failed if possible, the one with most free slots.
    private func chooseExecutor(for task: Int) -> Int? {
        var best: Int?
        var bestFresh: Int?
        for (executor, slots) in freeSlots.enumerated() where slots > 0 {
            if best == nil || slots > freeSlots[best ?? 0] { best = executor }
            if !failedOn[task].contains(executor), bestFresh == nil || slots > freeSlots[bestFresh ?? 0] {
                bestFresh = executor
            }
        }
        if let bestFresh { return bestFresh }
        // Only executors where it failed are free: use one if every executor has failed it, else wait.
        let usable = capacity.indices.filter { capacity[$0] > 0 }
        let allFailed = usable.allSatisfy { failedOn[task].contains($0) }
        return allFailed ? best : nil
    }
}

import Testing
@testable import MrshDataPath
@testable import MrshControl

/// The task lifecycle state machine, without threads.
@Suite struct TaskBoardTests {
    typealias Assignment = TaskBoard.Assignment

    @Test func fillsFreeSlotsInTaskOrder() {
        var board = TaskBoard(taskCount: 5, executorSlots: [2, 1])
        let first = board.schedule()
        #expect(first.map(\.task) == [0, 1, 2])
        #expect(first.filter { $0.executor == 0 }.count == 2)
        #expect(first.filter { $0.executor == 1 }.count == 1)
        let outcome1 = board.schedule()
        #expect(outcome1.isEmpty)
        let outcome2 = board.succeeded(first[0])
        #expect(outcome2)
        let next = board.schedule()
        #expect(next == [Assignment(task: 3, executor: first[0].executor, attempt: 0)])
        #expect(board.runningCount == 3)
    }

    @Test func failedAttemptIsRetriedElsewhereWithANewAttemptNumber() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1, 1])
        let first = board.schedule()
        #expect(first.count == 1)
        let outcome3 = board.failed(first[0])
        #expect(outcome3 == .retry)
        let second = board.schedule()
        #expect(second.count == 1)
        #expect(second[0].attempt == 1)
        #expect(second[0].executor != first[0].executor)
        let outcome4 = board.succeeded(second[0])
        #expect(outcome4)
        #expect(board.isComplete)
    }

    @Test func givesUpAfterMaxAttempts() {
        var board = TaskBoard(taskCount: 2, executorSlots: [1], maxAttempts: 3)
        var attempts: [Int] = []
        var action = TaskBoard.FailureAction.retry
        while action == .retry {
            let assignment = board.schedule().first { $0.task == 0 } ?? board.schedule()[0]
            if assignment.task != 0 {
                board.succeeded(assignment)
                continue
            }
            attempts.append(assignment.attempt)
            action = board.failed(assignment)
        }
        #expect(attempts == [0, 1, 2])
        #expect(action == .giveUp(attempts: 3))
        #expect(board.states[0] == .failed)
        #expect(!board.isComplete)
    }

    @Test func staleReportsAreIgnored() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1, 1])
        let first = board.schedule()[0]
        let outcome5 = board.succeeded(first)
        #expect(outcome5)
        let outcome6 = board.succeeded(first)
        #expect(!outcome6)
        let outcome7 = board.failed(first)
        #expect(outcome7 == .ignore)
        #expect(board.freeSlots == [1, 1])
        #expect(board.doneCount == 1)
    }

    @Test func waitsForAFreshExecutorRatherThanRepeatingAFailure() {
        var board = TaskBoard(taskCount: 2, executorSlots: [1, 1])
        let start = board.schedule()
        let onZero = start.first { $0.executor == 0 }
        let onOne = start.first { $0.executor == 1 }
        guard let onZero, let onOne else {
            Issue.record("expected one task per executor")
            return
        }
        let outcome8 = board.failed(onZero)
        #expect(outcome8 == .retry)
        // Executor 0 is free but the task failed there; executor 1 is busy: wait.
        let outcome9 = board.schedule()
        #expect(outcome9.isEmpty)
        board.succeeded(onOne)
        let retry = board.schedule()
        #expect(retry == [Assignment(task: onZero.task, executor: 1, attempt: 1)])
    }

    @Test func singleExecutorRetriesOnItself() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1])
        let first = board.schedule()[0]
        let outcome10 = board.failed(first)
        #expect(outcome10 == .retry)
        let outcome11 = board.schedule()
        #expect(outcome11 == [Assignment(task: 0, executor: 0, attempt: 1)])
    }

    @Test func emptyPhaseIsComplete() {
        let board = TaskBoard(taskCount: 0, executorSlots: [1])
        #expect(board.isComplete)
    }
}

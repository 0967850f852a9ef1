import MrshDataPath
import MrshControl
import Testing

/// The task board's fault handling, without threads: lost executors, reopened tasks, backups.
/// (Mutating calls are bound to a constant before `#expect`, which cannot take them.)
@Suite struct TaskBoardFaultTests {
    typealias Assignment = TaskBoard.Assignment

    @Test func lostExecutorsTasksRunElsewhereWithoutUsingUpAttempts() {
        var board = TaskBoard(taskCount: 2, executorSlots: [1, 1], maxAttempts: 1)
        let first = board.schedule()
        #expect(first.count == 2)
        guard let onZero = first.first(where: { $0.executor == 0 }), let onOne = first.first(where: { $0.executor == 1 })
        else { return }
        let dropped = board.executorLost(0)
        #expect(dropped == [onZero])
        #expect(board.freeSlots == [0, 0])
        // The dropped attempt's late report is stale.
        let stale = board.failed(onZero, counts: false)
        #expect(stale == .ignore)
        let won = board.succeeded(onOne)
        #expect(won)
        let again = board.schedule()
        #expect(again == [Assignment(task: onZero.task, executor: 1, attempt: 1)])
        if let retry = again.first { board.succeeded(retry) }
        #expect(board.isComplete)
        #expect(board.usableExecutors == 1)
    }

    @Test func failuresThatAreNotTheTasksFaultDoNotCount() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1], maxAttempts: 2)
        for _ in 0..<5 {
            let assignment = board.schedule()[0]
            let action = board.failed(assignment, counts: false)
            #expect(action == .retry)
        }
        let last = board.schedule()[0]
        #expect(last.attempt == 5)
        let first = board.failed(last)
        #expect(first == .retry)
        let final = board.schedule()[0]
        let second = board.failed(final)
        #expect(second == .giveUp(attempts: 2))
    }

    @Test func reopenedTaskRunsAgainAvoidingTheLostHolder() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1, 1])
        let first = board.schedule()[0]
        board.succeeded(first)
        let reopened = board.reopen(0, avoid: first.executor)
        #expect(reopened)
        #expect(!board.isComplete)
        let again = board.schedule()
        #expect(again.count == 1)
        #expect(again.first?.executor != first.executor)
        #expect(again.first?.attempt == 1)
    }

    @Test func backupAttemptRacesTheOriginalAndTheLoserIsAbandoned() {
        var board = TaskBoard(taskCount: 2, executorSlots: [1, 1, 1])
        let first = board.schedule()
        #expect(first.count == 2)
        let none = board.scheduleBackups { _ in false }
        #expect(none.isEmpty)
        let backups = board.scheduleBackups { $0.task == 1 }
        #expect(backups.count == 1)
        guard let backup = backups.first, let original = first.first(where: { $0.task == 1 }) else { return }
        #expect(backup.executor != original.executor)
        #expect(backup.attempt == 1)
        // The backup wins; the original is abandoned and its later success ignored.
        let won = board.succeeded(backup)
        #expect(won)
        let abandoned = board.takeAbandoned()
        #expect(abandoned == [original])
        let late = board.succeeded(original)
        #expect(!late)
        #expect(board.states[1] == .done(attempt: 1))
        #expect(board.freeSlots.reduce(0, +) == 2)
    }

    @Test func lateExecutorGetsWork() {
        var board = TaskBoard(taskCount: 3, executorSlots: [1])
        let first = board.schedule()
        #expect(first.count == 1)
        let added = board.addExecutor(slots: 2)
        #expect(added == 1)
        let more = board.schedule()
        #expect(more.count == 2)
        #expect(more.allSatisfy { $0.executor == 1 })
    }
}

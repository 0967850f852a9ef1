import Testing
@testable import MrshControl

/// A task's state carries its running attempts; an executor's loss is recorded once.
@Suite struct TaskBoardStateTests {
    typealias Assignment = TaskBoard.Assignment

    @Test func aRunningTaskListsItsAttemptsAndABackupAddsOne() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1, 1])
        let first = board.schedule()
        #expect(board.states == [.running(first)])
        let backup = board.scheduleBackups { _ in true }
        #expect(backup.count == 1)
        #expect(board.states == [.running(first + backup)])
        // The original fails: the backup keeps the task running.
        let action = board.failed(first[0])
        #expect(action == .retry)
        #expect(board.states == [.running(backup)])
    }

    @Test func aLostExecutorIsLostOnceAndItsTaskGoesIdle() {
        var board = TaskBoard(taskCount: 2, executorSlots: [1, 1])
        let first = board.schedule()
        #expect(!board.isLost(0))
        let dropped = board.executorLost(0)
        #expect(dropped.count == 1)
        #expect(board.isLost(0))
        #expect(!board.isLost(1))
        #expect(!board.isLost(7))
        let again = board.executorLost(0)
        #expect(again.isEmpty)
        #expect(board.states.filter { $0 == .idle }.count == 1)
        #expect(first.contains(dropped[0]))
        #expect(board.usableExecutors == 1)
    }
}

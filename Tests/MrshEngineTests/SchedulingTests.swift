import MrshTestSupport
import Testing
@testable import MrshControl

/// Every worker used (issue 16): the least-loaded executor gets the next task, splits are sized for about two
/// map tasks per slot, and the backup threshold's median is kept incrementally.
@Suite struct SchedulingTests {
    typealias Assignment = TaskBoard.Assignment

    @Test func eachTaskGoesToTheLeastLoadedExecutor() {
        var board = TaskBoard(taskCount: 6, executorSlots: [2, 2, 2])
        let first = board.schedule()
        #expect(first.map(\.executor) == [0, 1, 2, 0, 1, 2])
        // More free slots do not attract every task: an idle one-slot executor is less loaded.
        var mixed = TaskBoard(taskCount: 2, executorSlots: [3, 1])
        let spread = mixed.schedule()
        #expect(Set(spread.map(\.executor)) == [0, 1])
    }

    @Test func amongEquallyLoadedExecutorsTheOneIdleLongestGoesFirst() {
        var board = TaskBoard(taskCount: 5, executorSlots: [1, 1, 1])
        let first = board.schedule()
        #expect(first.map(\.executor) == [0, 1, 2])
        board.succeeded(first[1])
        board.succeeded(first[0])
        let next = board.schedule()
        #expect(next == [Assignment(task: 3, executor: 1, attempt: 0), Assignment(task: 4, executor: 0, attempt: 0)])
    }

    @Test func countsFollowTheTasks() {
        var board = TaskBoard(taskCount: 3, executorSlots: [1, 1])
        let first = board.schedule()
        #expect(board.runningCount == 2 && board.doneCount == 0)
        board.succeeded(first[0])
        #expect(board.doneCount == 1 && board.isDone(first[0].task))
        let reopened = board.reopen(first[0].task)
        #expect(reopened)
        #expect(board.doneCount == 0 && !board.isComplete)
        board.executorLost(1)
        #expect(board.usableExecutors == 1 && board.runningCount == 0)
        var left = board.schedule()
        while !left.isEmpty {
            for a in left { board.succeeded(a) }
            left = board.schedule()
        }
        #expect(board.isComplete && board.doneCount == 3)
    }

    @Test func splitsAreSizedForTwoMapTasksPerSlotAboveAFloor() {
        let mib: Int64 = 1 << 20
        // 150 MB on 3 workers of 2 slots: 12 tasks of 12.5 MB rather than 5 of 32 MiB.
        #expect(InputPlanner.splitSize(inputBytes: 150_000_000, slots: 6, largest: 32 * mib) == 12_500_000)
        #expect(InputPlanner.splitSize(inputBytes: 10 * mib, slots: 6, largest: 32 * mib) == InputPlanner.minimumSplit)
        #expect(InputPlanner.splitSize(inputBytes: 1 << 30, slots: 4, largest: 32 * mib) == 32 * mib)
        #expect(InputPlanner.splitSize(inputBytes: 1 << 30, slots: 0, largest: 32 * mib) == 32 * mib)
        // A split size chosen below the floor stays.
        #expect(InputPlanner.splitSize(inputBytes: 1 << 30, slots: 4, largest: 64 << 10) == 64 << 10)
        let files = (0..<24).map {
            InputPlanner.SizedInput(split: .file(path: "f\($0)", offset: 0, length: 6_250_000), size: 6_250_000)
        }
        let size = InputPlanner.splitSize(inputBytes: 150_000_000, slots: 6, largest: 32 * mib)
        #expect(InputPlanner.tasks(files, splitSize: size).count == 12)
    }

    @Test func theRunningMedianIsTheSortedMiddle() {
        var random = SplitMix64(seed: 16)
        var median = RunningMedian()
        var all: [Double] = []
        #expect(median.median == nil)
        for _ in 0..<500 {
            let value = Double(random.next() % 1000) / 10
            all.append(value)
            median.insert(value)
            #expect(median.median == all.sorted()[all.count / 2])
        }
    }
}

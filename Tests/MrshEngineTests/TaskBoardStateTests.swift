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

    /// Random schedules, backups, successes, failures and losses against a model that tracks every live
    /// attempt: a lost executor drops exactly the attempts running on it (the board finds them through its
    /// per-executor index, not a pass over every running task), each running task keeps its other attempts.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func aLostExecutorDropsExactlyTheAttemptsRunningOnIt(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let executors = 12
        var board = TaskBoard(taskCount: 300, executorSlots: (0..<executors).map { _ in Int.random(in: 1...3, using: &random) }, maxAttempts: 4)
        var live = Set<Assignment>()
        var lost = Set<Int>()
        for step in 0..<400 {
            for a in board.schedule() { live.insert(a) }
            if step % 7 == 0 { for a in board.scheduleBackups(eligible: { _ in Bool.random(using: &random) }) { live.insert(a) } }
            if let pick = live.randomElement(using: &random) {
                live.remove(pick)
                if Bool.random(using: &random) {
                    _ = board.succeeded(pick)
                } else {
                    _ = board.failed(pick, counts: Bool.random(using: &random))
                }
                for a in board.takeAbandoned() { live.remove(a) }
            }
            if step % 40 == 39, lost.count < executors - 2 {
                let victim = Int.random(in: 0..<executors, using: &random)
                let expected = live.filter { $0.executor == victim }
                let dropped = board.executorLost(victim)
                #expect(Set(dropped) == (lost.contains(victim) ? [] : expected), "seed \(seed), step \(step)")
                #expect(dropped.count == Set(dropped).count)
                live.subtract(expected)
                lost.insert(victim)
                for (task, state) in board.states.enumerated() {
                    if case .running(let attempts) = state {
                        #expect(attempts.allSatisfy { !lost.contains($0.executor) }, "task \(task)")
                    }
                }
            }
        }
        var running = Set<Assignment>()
        for case .running(let attempts) in board.states { running.formUnion(attempts) }
        #expect(running == live)
    }
}

/// SplitMix64, so that a failing seed repeats.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

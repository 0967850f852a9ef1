import MrshDataPath
import Synchronization
import Testing
@testable import MrshShell

@Suite struct StatementCancellationTests {
    @Test func runsHandlersOnceIncludingLateOnes() {
        let cancellation = CancellationFlag()
        let calls = Atomic<Int>(0)
        cancellation.onCancel { calls.add(1, ordering: .relaxed) }
        #expect(!cancellation.isCancelled)
        cancellation.cancel()
        cancellation.cancel()
        #expect(cancellation.isCancelled)
        #expect(calls.load(ordering: .relaxed) == 1)
        cancellation.onCancel { calls.add(10, ordering: .relaxed) }  // registered late: runs at once
        #expect(calls.load(ordering: .relaxed) == 11)
    }

    @Test func cancelsATaskWaitingOnIt() async {
        let cancellation = CancellationFlag()
        let job = Task {
            while !Task.isCancelled { await Task.yield() }
            return "stopped"
        }
        cancellation.onCancel { job.cancel() }
        cancellation.cancel()
        #expect(await job.value == "stopped")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Wakes the simulated attempts: one thread polling a heap of deadlines every half millisecond, instead of
/// a timer per sleep. With 4,000 attempts asleep at once, `Task.sleep` costs a dispatch timer source and a
/// `timerfd_settime` call each (a fifth of the process's CPU time in `perf` at 2,000 workers): the
/// harness's own load, which the coordinator it measures would not carry. A sleep wakes at most about
/// 0.5 ms late, plus the time to resume its task; a cancelled sleep throws at once, as `Task.sleep` does.
final class SimClock: Sendable {
    private struct State {
        /// A binary min-heap of (deadline in ns, sleeper id).
        var heap: [(deadline: UInt64, id: UInt64)] = []
        var sleepers: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        /// Sleepers cancelled before they were registered.
        var cancelledEarly: Set<UInt64> = []
        var nextID: UInt64 = 0

        mutating func push(_ entry: (deadline: UInt64, id: UInt64)) {
            heap.append(entry)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].deadline < heap[parent].deadline else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        mutating func popDue(_ now: UInt64) -> [CheckedContinuation<Void, any Error>] {
            var due: [CheckedContinuation<Void, any Error>] = []
            while let first = heap.first, first.deadline <= now {
                let last = heap.removeLast()
                if !heap.isEmpty {
                    heap[0] = last
                    var parent = 0
                    while true {
                        let left = 2 * parent + 1
                        guard left < heap.count else { break }
                        let right = left + 1
                        let child = right < heap.count && heap[right].deadline < heap[left].deadline ? right : left
                        guard heap[child].deadline < heap[parent].deadline else { break }
                        heap.swapAt(child, parent)
                        parent = child
                    }
                }
                if let sleeper = sleepers.removeValue(forKey: first.id) { due.append(sleeper) }
            }
            return due
        }
    }

    private let state = Mutex(State())
    static let shared = SimClock()

    private init() {
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { _ in
            SimClock.shared.run()
        }, nil)
        precondition(started == 0, "cannot start the simulation's clock thread")
        pthread_detach(thread)
    }

    private func run() -> Never {
        while true {
            usleep(500)
            let now = SimModel.nanoseconds()
            for sleeper in state.withLock({ $0.popDue(now) }) { sleeper.resume() }
        }
    }

    func sleep(seconds: Double) async throws {
        let deadline = SimModel.nanoseconds() + UInt64(max(0, seconds) * 1e9)
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { s in
                    if s.cancelledEarly.remove(id) != nil { return true }
                    s.sleepers[id] = continuation
                    s.push((deadline, id))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                if let sleeper = s.sleepers.removeValue(forKey: id) { return sleeper }
                // Not registered yet, or already woken (then the mark is never read: a few bytes).
                s.cancelledEarly.insert(id)
                return nil
            }
            sleeper?.resume(throwing: CancellationError())
        }
    }
}

import Synchronization

/// Which workers have map tasks in flight, and the most that had at the same time since `reset()`:
/// the evidence that map tasks ran in parallel on different workers (reported per run).
final class WorkerActivity: Sendable {
    private struct State {
        var running: [String: Int] = [:]
        var peak = 0
    }
    private let state = Mutex(State())

    func started(_ worker: String) {
        state.withLock { s in
            s.running[worker, default: 0] += 1
            s.peak = max(s.peak, s.running.count)
        }
    }

    func ended(_ worker: String) {
        state.withLock { s in
            let left = (s.running[worker] ?? 1) - 1
            s.running[worker] = left > 0 ? left : nil
        }
    }

    /// Starts a new measurement; returns the peak of the previous one.
    @discardableResult
    func reset() -> Int {
        state.withLock { s in
            defer { s.peak = s.running.count }
            return s.peak
        }
    }

    var peak: Int { state.withLock { $0.peak } }
}

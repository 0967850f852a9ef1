import Synchronization

/// Which workers have map tasks in flight, and the most that had at the same time since `reset()`:
/// the evidence that map tasks ran in parallel on different workers (reported per run).
final class WorkerActivity: Sendable {
    private struct State {
        var running: [String: Int] = [:]
        var peak = 0
        /// Map attempts each worker started since `reset()` (backups and attempts that lost included).
        var mapsStarted: [String: Int] = [:]
    }
    private let state = Mutex(State())

    func started(_ worker: String) {
        state.withLock { s in
            s.running[worker, default: 0] += 1
            s.peak = max(s.peak, s.running.count)
            s.mapsStarted[worker, default: 0] += 1
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
            defer {
                s.peak = s.running.count
                s.mapsStarted = [:]
            }
            return s.peak
        }
    }

    /// Map attempts each worker started since `reset()`.
    var mapsStarted: [String: Int] { state.withLock { $0.mapsStarted } }

    /// "map attempts per worker: w0=4, w1=4, w2=0" over `workers` (those without one included).
    func describeMaps(_ workers: [String]) -> String {
        let started = mapsStarted
        let names = Set(workers).union(started.keys).sorted()
        return "map attempts per worker: " + names.map { "\($0)=\(started[$0] ?? 0)" }.joined(separator: ", ")
    }

    var peak: Int { state.withLock { $0.peak } }
}

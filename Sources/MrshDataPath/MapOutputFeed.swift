import MrshPlan
import Synchronization

/// The channel through which a running reduce attempt learns where map outputs are as map tasks finish
/// (paper, section 3.1 step 5: the master forwards the locations to the reduce workers).
///
/// The coordinator `publish`es every map output it accepts (and again after a re-execution); one
/// consumer (the reduce attempt, or the remote executor forwarding to a worker) takes them with `next()`
/// in publication order. Publishing never blocks, so the scheduler never waits for a reducer.
public final class MapOutputFeed: Sendable {
    private struct State {
        var pending: [MapOutputUpdate] = []
        var waiter: CheckedContinuation<[MapOutputUpdate], any Error>?
    }
    private let state = Mutex(State())

    public init() {}

    /// Queues `updates` for the consumer (wakes it when it waits).
    public func publish(_ updates: [MapOutputUpdate]) {
        guard !updates.isEmpty else { return }
        let woken: (CheckedContinuation<[MapOutputUpdate], any Error>, [MapOutputUpdate])? = state.withLock { s in
            // The same batch goes to every running reducer's feed: share it rather than copy it.
            if s.pending.isEmpty { s.pending = updates } else { s.pending += updates }
            guard let waiter = s.waiter else { return nil }
            s.waiter = nil
            defer { s.pending = [] }
            return (waiter, s.pending)
        }
        if let (waiter, batch) = woken { waiter.resume(returning: batch) }
    }

    /// The updates published since the last call, without waiting (possibly none).
    public func takePending() -> [MapOutputUpdate] {
        state.withLock { s in
            defer { s.pending = [] }
            return s.pending
        }
    }

    /// Waits for updates published since the last call and returns them (never empty). One consumer at a
    /// time. Throws `CancellationError` when the calling task is cancelled.
    public func next() async throws -> [MapOutputUpdate] {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[MapOutputUpdate], any Error>) in
                let ready: [MapOutputUpdate]? = state.withLock { s in
                    if !s.pending.isEmpty {
                        defer { s.pending = [] }
                        return s.pending
                    }
                    s.waiter = continuation
                    return nil
                }
                if let ready {
                    continuation.resume(returning: ready)
                } else if Task.isCancelled {
                    wakeCancelled()
                }
            }
        } onCancel: {
            wakeCancelled()
        }
    }

    private func wakeCancelled() {
        let waiter = state.withLock { s in
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(throwing: CancellationError())
    }
}

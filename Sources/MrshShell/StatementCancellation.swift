import Synchronization

/// Ctrl-C for one statement: the REPL fires it, the backend registers what cancels its job.
///
/// Handlers registered after it fired run at once, so a job started late is still cancelled.
public final class StatementCancellation: Sendable {
    private struct State {
        var cancelled = false
        var handlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Fires: runs every registered handler once.
    public func cancel() {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.cancelled else { return [] }
            s.cancelled = true
            defer { s.handlers.removeAll() }
            return s.handlers
        }
        for handler in handlers { handler() }
    }

    /// Runs `handler` when the statement is cancelled (now, if it already was).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.cancelled { return true }
            s.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}

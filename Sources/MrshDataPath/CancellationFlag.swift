import Synchronization

/// The one cancel flag of mrsh: set once, from a Swift task's cancellation handler, a signal watcher or a
/// connection handler; polled by blocking work on another thread (the data path's hot loops read only the
/// atomic), and it runs the handlers registered with `onCancel` once when it is set.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let handlers = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }

    /// Sets the flag; the first call runs every handler registered so far, once.
    public func cancel() {
        let pending = handlers.withLock { list -> [@Sendable () -> Void] in
            // Set under the lock, so that `onCancel` either sees the flag or leaves its handler for this call.
            guard !flag.exchange(true, ordering: .acquiringAndReleasing) else { return [] }
            defer { list.removeAll() }
            return list
        }
        for handler in pending { handler() }
    }

    /// Runs `handler` when the flag is set (now, if it already is).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = handlers.withLock { list -> Bool in
            if flag.load(ordering: .acquiring) { return true }
            list.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Throws `EngineError.cancelled` when set.
    @inline(__always)
    public func check() throws {
        if isCancelled { throw EngineError.cancelled }
    }
}

import Synchronization

/// A flag set from a Swift task's cancellation handler and polled by blocking work on another thread.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }

    public func cancel() { flag.store(true, ordering: .relaxed) }

    /// Throws `EngineError.cancelled` when set.
    @inline(__always)
    public func check() throws {
        if isCancelled { throw EngineError.cancelled }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs blocking, CPU-heavy task work on a thread of its own so that it never occupies Swift's
/// cooperative thread pool; the awaiting task's cancellation sets the `CancellationFlag` the work polls.
public enum Offload {
    public static func run<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let started = startThread {
                    continuation.resume(with: Result { try body(flag) })
                }
                if !started {
                    continuation.resume(throwing: EngineError.failed("cannot start a thread for a task"))
                }
            }
        } onCancel: {
            flag.cancel()
        }
    }

    private final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a detached pthread running `body`; false when the thread cannot be created.
    private static func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            // `raw` is the retained Box passed to pthread_create just below, never nil.
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}

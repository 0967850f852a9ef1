#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CMrshShims
import Foundation
import MrshDataPath
import Synchronization

/// The records of a script or one-shot statement on their way to standard output (or another descriptor),
/// written by a thread of their own: a `write(2)` that blocks (a pipe nobody reads, a stopped terminal)
/// blocks that thread, never one of Swift's cooperative threads.
///
/// `write` only queues (it never blocks); the bound is `awaitCapacity()`, which the engine's output streamer
/// and the cluster client await before each chunk: it suspends while more than `capacity` bytes wait to be
/// written, and ends at once, throwing `CancellationError`, when its task is cancelled (Ctrl-C), even while
/// the writer thread is stuck in a write that may never return. `finish()` waits for everything to be written.
public final class StandardOutputSink: RecordSink, Sendable {
    /// Queued bytes above which `awaitCapacity` suspends (1 MiB, the buffer the blocking writer had): with
    /// the block being filled, the most this sink holds is about `capacity` plus a block plus one chunk of
    /// the caller.
    public static let capacity = 1 << 20
    /// Bytes collected before they are handed to the writer thread as one `write(2)`.
    static let blockSize = 256 << 10

    private struct Waiter {
        var id: Int
        /// Resumed once at most this many bytes are queued.
        var limit: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// The block being filled.
        var pending: [UInt8] = []
        /// Blocks handed to the writer, oldest first, and their bytes (the one being written included).
        var queue: [[UInt8]] = []
        var queuedBytes = 0
        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// The first write that failed (standard output closed): later calls throw it.
        var failure: SystemError?
        /// No more blocks will come: the writer thread ends once the queue is empty.
        var closed = false
        var threadStarted = false
    }

    private let fd: Int32
    private let name: String
    private let state = Mutex(State())
    /// Wakes the writer thread: signalled once per queued block and once on close.
    private let wake = DispatchSemaphore(value: 0)

    public init(descriptor: Int32 = 1, name: String = "standard output") {
        fd = descriptor
        self.name = name
    }

    deinit {
        // Ends the writer thread if it is waiting (it holds no reference to this sink: see `startThread`).
        abandon()
    }

    /// Queues newline-terminated records; never blocks. Throws the failure of an earlier write.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        let full: Bool = try state.withLock { s in
            if let failure = s.failure { throw failure }
            s.pending.append(contentsOf: bytes)
            guard s.pending.count >= Self.blockSize else { return false }
            enqueuePending(&s)
            return true
        }
        if full { startThreadIfNeeded() }
    }

    /// Suspends until at most `capacity` bytes wait to be written. Throws `CancellationError` at once when
    /// the task is cancelled, and the failure of a write (standard output closed).
    public func awaitCapacity() async throws {
        try await waitUntilQueued(atMost: Self.capacity)
    }

    /// Hands over what is buffered and waits until all of it was written; cancellable like `awaitCapacity`.
    public func finish() async throws {
        state.withLock { s in
            if !s.pending.isEmpty { enqueuePending(&s) }
        }
        startThreadIfNeeded()
        try await waitUntilQueued(atMost: 0)
    }

    /// Drops what was not written yet and lets the writer thread end after its current write (a cancelled
    /// run: its standard output may never drain).
    public func abandon() {
        let waiters: [Waiter] = state.withLock { s in
            s.pending = []
            s.queue = []
            s.queuedBytes = 0
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: CancellationError()) }
        wake.signal()
    }

    // MARK: - Internals

    /// Moves the pending block to the writer's queue and wakes the writer. Called with the lock held.
    private func enqueuePending(_ s: inout State) {
        let block = s.pending
        s.pending = []
        s.pending.reserveCapacity(Self.blockSize)
        s.queue.append(block)
        s.queuedBytes += block.count
        wake.signal()
    }

    private func waitUntilQueued(atMost limit: Int) async throws {
        try Task.checkCancellation()
        if let failure = state.withLock({ $0.failure }) { throw failure }
        if state.withLock({ $0.queuedBytes <= limit }) { return }
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { s in
                    // Checked under the lock: a cancellation whose handler ran before this registration
                    // found no waiter to resume, so it is seen here.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let failure = s.failure { return .failure(failure) }
                    if s.queuedBytes <= limit { return .success(()) }
                    s.waiters.append(Waiter(id: id, limit: limit, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { s in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func startThreadIfNeeded() {
        let start = state.withLock { s -> Bool in
            defer { s.threadStarted = true }
            return !s.threadStarted
        }
        guard start else { return }
        let fd = self.fd
        let name = self.name
        // The thread keeps the sink alive only while it writes: it holds a weak reference between blocks,
        // so a sink dropped without `finish()` ends its thread (`deinit` closes the queue and wakes it).
        let wake = self.wake
        let thread = Thread { [weak self] in
            // Named for /proc and debuggers, by the kernel call itself: Foundation's `Thread.current.name`
            // reaches the kernel only once `start()` has stored the new thread's handle, which this thread
            // may beat (then it kept the name of the thread that started it, a Dispatch worker's).
            _ = mrsh_set_current_thread_name("mrsh-output")
            while true {
                wake.wait()
                guard let sink = self else { return }
                guard sink.writeQueued(fd: fd, name: name) else { return }
            }
        }
        thread.start()
    }

    /// Writes all of `bytes`, retrying short writes and `EINTR`; a descriptor left non-blocking by whoever
    /// opened it is waited for with `poll` instead of spinning. Returns the failure, if any.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) -> SystemError? {
        var done = 0
        while done < bytes.count {
            // Non-nil: count > done >= 0, so the buffer is not empty.
            let n = Glibc.write(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done)
            if n >= 0 {
                done += n
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, -1)
                continue
            }
            return SystemError(call: "write", subject: name, errno: code)
        }
        return nil
    }

    /// Writes the queued blocks, oldest first, until the queue is empty; false once the writer should end
    /// (closed and drained, or a write failed).
    private func writeQueued(fd: Int32, name: String) -> Bool {
        while true {
            let next: [UInt8]? = state.withLock { s in s.queue.first }
            guard let block = next else {
                return !state.withLock { $0.closed }
            }
            let failure = block.withUnsafeBytes { Self.writeAll(fd, $0, name: name) }
            let resumed: [(Waiter, Result<Void, any Error>)] = state.withLock { s in
                // `abandon()` may have emptied the queue during the write.
                if !s.queue.isEmpty {
                    s.queue.removeFirst()
                    s.queuedBytes -= block.count
                }
                if let failure {
                    s.failure = s.failure ?? failure
                    s.queue = []
                    s.queuedBytes = 0
                    defer { s.waiters = [] }
                    return s.waiters.map { ($0, .failure(failure)) }
                }
                let queued = s.queuedBytes
                let ready = s.waiters.filter { $0.limit >= queued }
                s.waiters.removeAll { $0.limit >= queued }
                return ready.map { ($0, .success(())) }
            }
            for (waiter, outcome) in resumed { waiter.continuation.resume(with: outcome) }
            if failure != nil { return false }
        }
    }
}

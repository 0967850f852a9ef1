import MrshWire
import NIOCore
import Synchronization

/// Result bytes on their way to the client: buffered into blocks of `WireLimits.blockSize`, each sent as a
/// checksummed data block. `write` never blocks: a full block is handed to the channel at once. The bound is
/// `awaitCapacity()`, which the engine's output streamer awaits before each chunk: it suspends (no thread
/// waits) while more than `maxUnwritten` bytes are handed to the channel and not yet written to the socket,
/// so a client that reads slowly slows the job down instead of growing the coordinator's memory.
public final class ClientOutput: Sendable {
    /// Bytes of blocks handed to the channel and not yet written to its socket above which `awaitCapacity`
    /// suspends (4 MiB). With the block being filled, the coordinator holds at most about 5 MiB of a
    /// client's output in its own memory (the kernel's socket buffer comes on top).
    public static let maxUnwritten = 4 * WireLimits.blockSize

    private struct State {
        var buffer = ByteBuffer()
        /// Writes in flight, oldest first, with their sizes.
        var unwritten: [(write: EventLoopFuture<Void>, bytes: Int)] = []
        var unwrittenBytes = 0
        /// The first write that failed (the client is gone): later writes throw it.
        var failure: (any Error)?
    }
    private let channel: (any Channel)?
    private let state = Mutex(State())
    /// For tests and in-process use: receives every flushed block instead of a channel.
    private let sink: (@Sendable (ByteBuffer) -> Void)?

    /// Learns the bytes written to the socket so far after each block (a test hook).
    private let onWritten: (@Sendable (Int64) -> Void)?
    private let written = Atomic<Int64>(0)

    init(channel: any Channel, onWritten: (@Sendable (Int64) -> Void)? = nil) {
        self.channel = channel
        self.onWritten = onWritten
        sink = nil
    }

    public init(sink: @escaping @Sendable (ByteBuffer) -> Void) {
        channel = nil
        onWritten = nil
        self.sink = sink
    }

    /// Appends newline-terminated records; full blocks go to the channel without waiting.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        var remaining = bytes
        while !remaining.isEmpty {
            let full: ByteBuffer? = state.withLock { s in
                let room = WireLimits.blockSize - s.buffer.readableBytes
                let n = min(room, remaining.count)
                s.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: remaining[0..<n]))
                remaining = UnsafeRawBufferPointer(rebasing: remaining[n...])
                guard s.buffer.readableBytes >= WireLimits.blockSize else { return nil }
                defer { s.buffer = ByteBuffer() }
                return s.buffer
            }
            if let full { send(full) }
        }
    }

    /// Suspends until at most `maxUnwritten` bytes of output wait to be written to the client's socket.
    /// Throws when a write failed (the client is gone).
    public func awaitCapacity() async throws {
        try await drain(to: Self.maxUnwritten)
    }

    /// Sends what is buffered and waits until everything was written to the socket.
    public func flush() async throws {
        let rest: ByteBuffer? = state.withLock { s in
            guard s.buffer.readableBytes > 0 else { return nil }
            defer { s.buffer = ByteBuffer() }
            return s.buffer
        }
        if let rest { send(rest) }
        try await drain(to: 0)
    }

    /// Waits for the oldest writes until at most `limit` bytes are unwritten. Cancellation ends the wait at
    /// once (a cancelled job must not wait for a client that does not read).
    private func drain(to limit: Int) async throws {
        while let oldest = state.withLock({ s -> EventLoopFuture<Void>? in
            guard s.unwrittenBytes > limit, !s.unwritten.isEmpty else { return nil }
            let first = s.unwritten.removeFirst()
            s.unwrittenBytes -= first.bytes
            return first.write
        }) {
            try Task.checkCancellation()
            // The first of the write's outcome and the cancellation completes the waiter (a second is ignored).
            let waiter = oldest.eventLoop.makePromise(of: Void.self)
            oldest.cascade(to: waiter)
            try await withTaskCancellationHandler {
                try await waiter.futureResult.get()
            } onCancel: {
                waiter.fail(CancellationError())
            }
        }
    }

    private func send(_ block: ByteBuffer) {
        if let sink { return sink(block) }
        guard let channel else { return }
        let frame = block.withUnsafeReadableBytes { DataBlock.frame($0) }
        let write = channel.writeAndFlush(frame)
        write.whenFailure { error in self.state.withLock { s in s.failure = s.failure ?? error } }
        if let onWritten {
            let bytes = Int64(block.readableBytes)
            write.whenSuccess { onWritten(self.written.add(bytes, ordering: .relaxed).newValue) }
        }
        state.withLock { s in
            s.unwritten.append((write, block.readableBytes))
            s.unwrittenBytes += block.readableBytes
        }
    }
}

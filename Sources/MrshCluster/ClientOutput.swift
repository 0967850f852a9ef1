import MrshWire
import NIOCore
import Synchronization

/// Result bytes on their way to the client: buffered into blocks of `WireLimits.blockSize`, each sent as a
/// checksummed data block. `write` blocks the calling thread while a block is written (backpressure): call it
/// from a task thread, never from an event loop.
public final class ClientOutput: Sendable {
    private let channel: (any Channel)?
    private let buffer = Mutex(ByteBuffer())
    /// For tests and in-process use: receives every flushed block instead of a channel.
    private let sink: (@Sendable (ByteBuffer) -> Void)?

    init(channel: any Channel) {
        self.channel = channel
        sink = nil
    }

    public init(sink: @escaping @Sendable (ByteBuffer) -> Void) {
        channel = nil
        self.sink = sink
    }

    /// Appends newline-terminated records.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var remaining = bytes
        while !remaining.isEmpty {
            let full: ByteBuffer? = buffer.withLock { b in
                let room = WireLimits.blockSize - b.readableBytes
                let n = min(room, remaining.count)
                b.writeBytes(UnsafeRawBufferPointer(rebasing: remaining[0..<n]))
                remaining = UnsafeRawBufferPointer(rebasing: remaining[n...])
                guard b.readableBytes >= WireLimits.blockSize else { return nil }
                defer { b.clear() }
                return b
            }
            if let full { try send(full) }
        }
    }

    /// Sends what is buffered.
    public func flush() throws {
        let rest: ByteBuffer? = buffer.withLock { b in
            guard b.readableBytes > 0 else { return nil }
            defer { b = ByteBuffer() }
            return b
        }
        if let rest { try send(rest) }
    }

    private func send(_ block: ByteBuffer) throws {
        if let sink { return sink(block) }
        guard let channel else { return }
        let frame = block.withUnsafeReadableBytes { DataBlock.frame($0) }
        try channel.writeAndFlush(frame).wait()
    }
}

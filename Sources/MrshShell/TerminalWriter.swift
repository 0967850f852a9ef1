#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import MrshDataPath
import Synchronization

/// Unbuffered, thread-safe writes of whole strings to a file descriptor (standard output or error),
/// retrying short writes and `EINTR`.
public final class TerminalWriter: Sendable {
    public let fd: Int32
    /// When capturing (tests), what was written instead of writing to `fd`.
    private let captured = Mutex<[UInt8]>([])
    private let capturing: Bool
    private let lock = Mutex<Void>(())

    public init(fd: Int32) {
        self.fd = fd
        capturing = false
    }

    /// A writer that keeps what is written, for tests.
    public init(capturing: Void) {
        fd = -1
        self.capturing = true
    }

    /// What a capturing writer has received.
    public var capturedText: String { captured.withLock { String(decoding: $0, as: UTF8.self) } }

    public static let standardOutput = TerminalWriter(fd: 1)
    public static let standardError = TerminalWriter(fd: 2)

    public func write(_ text: String) {
        var copy = text
        copy.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        if capturing {
            captured.withLock { $0.append(contentsOf: bytes) }
            return
        }
        // A message that cannot be written (standard error closed) has nowhere else to go: drop it.
        lock.withLock { _ in try? FileIO.writeAll(fd, bytes, path: "file descriptor \(fd)", waitWhenBusy: true) }
    }
}

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import Foundation
import Synchronization

/// Ctrl-C for the shell: one SIGINT handler for the life of the process.
///
/// At the prompt, the handler makes libedit's blocked `read` return `EINTR` (forwarding the signal to
/// the thread that reads, since the kernel may pick any thread), so the line is cleared. While a
/// statement runs, the handler writes a byte to a pipe; a watcher thread reads it and runs the current
/// `onInterrupt` action, which cancels the statement's task. Only async-signal-safe calls
/// (`write`, `pthread_kill`, atomics) happen in the handler.
final class InterruptMonitor: Sendable {
    static let shared = InterruptMonitor()

    /// The pipe's write end, or -1.
    fileprivate let writeFD = Atomic<Int32>(-1)
    /// The thread blocked in `el_gets`, or 0.
    fileprivate let readerThread = Atomic<UInt>(0)
    private let action = Mutex<(@Sendable () -> Void)?>(nil)
    private let installed = Atomic<Bool>(false)

    private init() {}

    /// Installs the handler (restarting interrupted calls) and starts the watcher; idempotent.
    func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        writeFD.store(fds[1], ordering: .releasing)
        let readFD = fds[0]
        let watcher = Thread { [self] in
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                let current = action.withLock { $0 }
                current?()
            }
        }
        watcher.name = "mrsh-interrupt"
        watcher.start()
        setHandler(restart: true)
    }

    /// Runs `body` (a blocking line read) so that Ctrl-C interrupts it with `EINTR`.
    func whileReading<T>(_ body: () -> T) -> T {
        readerThread.store(UInt(pthread_self()), ordering: .releasing)
        setHandler(restart: false)
        defer {
            setHandler(restart: true)
            readerThread.store(0, ordering: .releasing)
        }
        return body()
    }

    /// Sets what Ctrl-C does while no line is being read (nil: nothing).
    func onInterrupt(_ newAction: (@Sendable () -> Void)?) {
        action.withLock { $0 = newAction }
    }

    private func setHandler(restart: Bool) {
        var sa = sigaction()
        sa.__sigaction_handler.sa_handler = mrshInterruptHandler
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = restart ? SA_RESTART : 0
        sigaction(SIGINT, &sa, nil)
    }
}

/// The SIGINT handler: see `InterruptMonitor`.
private func mrshInterruptHandler(_ signal: Int32) {
    let monitor = InterruptMonitor.shared
    let savedErrno = errno
    let reader = monitor.readerThread.load(ordering: .acquiring)
    if reader != 0 {
        let me = UInt(pthread_self())
        if me != reader { pthread_kill(pthread_t(reader), SIGINT) }
    } else {
        var byte: UInt8 = 1
        _ = write(monitor.writeFD.load(ordering: .acquiring), &byte, 1)
    }
    errno = savedErrno
}

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import Synchronization

/// Ctrl-C while a statement runs: one SIGINT handler for the life of the process.
///
/// The handler only writes a byte to a pipe (async-signal-safe); a watcher thread reads it and runs
/// the current `onInterrupt` action, which cancels the statement's task. At the prompt the terminal's
/// signal characters are off (see `LineEditor`), so Ctrl-C arrives there as a key instead: a signal
/// would go to any of the process's threads, rarely the one blocked in libedit's `read`.
///
/// SIGTERM while a statement runs (`catchingTerminate`) cancels it the same way and sets
/// `terminateRequested`, so that the shell cleans up and leaves; at the prompt SIGTERM keeps its default
/// action (libedit restores the terminal first), since no job is running then.
final class InterruptMonitor: Sendable {
    static let shared = InterruptMonitor()

    /// The pipe's write end, or -1.
    fileprivate let writeFD = Atomic<Int32>(-1)
    private let action = Mutex<(@Sendable () -> Void)?>(nil)
    private let installed = Atomic<Bool>(false)
    private let terminated = Atomic<Bool>(false)

    /// True once a SIGTERM arrived while a statement ran.
    var terminateRequested: Bool { terminated.load(ordering: .acquiring) }

    private init() {}

    /// Installs the handler (restarting interrupted system calls) and starts the watcher; idempotent.
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
                if byte == UInt8(SIGTERM) { terminated.store(true, ordering: .releasing) }
                let current = action.withLock { $0 }
                current?()
            }
        }
        watcher.name = "mrsh-interrupt"
        watcher.start()
        var sa = sigaction()
        sa.__sigaction_handler.sa_handler = mrshInterruptHandler
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = SA_RESTART
        sigaction(SIGINT, &sa, nil)
    }

    /// Sets what Ctrl-C does while a statement runs (nil: nothing).
    func onInterrupt(_ newAction: (@Sendable () -> Void)?) {
        action.withLock { $0 = newAction }
    }

    /// While a statement runs (true), SIGTERM goes through the pipe like Ctrl-C; otherwise it has its
    /// default action.
    func catchingTerminate(_ catching: Bool) {
        guard installed.load(ordering: .acquiring) else { return }
        var sa = sigaction()
        if catching {
            sa.__sigaction_handler.sa_handler = mrshInterruptHandler
        } else {
            sa.__sigaction_handler.sa_handler = SIG_DFL
        }
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = SA_RESTART
        sigaction(SIGTERM, &sa, nil)
    }
}

/// The SIGINT and SIGTERM handler: see `InterruptMonitor`. The byte written is the signal's number.
private func mrshInterruptHandler(_ signal: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(InterruptMonitor.shared.writeFD.load(ordering: .acquiring), &byte, 1)
    errno = savedErrno
}

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import Synchronization

/// SIGINT, SIGTERM and SIGHUP while a statement or a script runs: the one signal handler of mrsh, for the
/// shell and for `mrsh run` / `mrsh -e` (`cancelling(_:)`). SIGHUP (the terminal closed, the ssh session
/// dropped) is handled as SIGTERM is, unless the process started with it ignored (`nohup`): killed outright,
/// a job would leave `DIR/_temporary` behind.
///
/// The handler only writes a byte to a pipe (async-signal-safe); a watcher thread reads it and runs
/// the current `onInterrupt` action, which cancels the statement's task. At the prompt the terminal's
/// signal characters are off (see `LineEditor`), so Ctrl-C arrives there as a key instead: a signal
/// would go to any of the process's threads, rarely the one blocked in libedit's `read`.
///
/// SIGTERM or SIGHUP while a statement runs (`catchingTerminate`) cancels it the same way and sets
/// `terminateRequested`, so that the shell cleans up and leaves. At the prompt they run the shell's
/// `leavingAtPrompt` clean-up (the engine's scratch, a Spark session) and end the process by that signal
/// (libedit restores the terminal first, then passes the signal on to this handler); without one they keep
/// their default action.
public final class InterruptMonitor: Sendable {
    public static let shared = InterruptMonitor()

    /// The pipe's write end, or -1.
    fileprivate let writeFD = Atomic<Int32>(-1)
    private let action = Mutex<(@Sendable (Int32) -> Void)?>(nil)
    private let installed = Atomic<Bool>(false)
    /// The SIGTERM or SIGHUP that arrived while a statement ran, or 0.
    private let terminated = Atomic<Int32>(0)
    /// What SIGTERM and SIGHUP run at the shell's prompt before they end the process (nil: default action).
    private let promptCleanUp = Mutex<(@Sendable () -> Void)?>(nil)

    /// The SIGTERM or SIGHUP that arrived while a statement ran, if one did.
    var terminateRequested: Int32? {
        let number = terminated.load(ordering: .acquiring)
        return number == 0 ? nil : number
    }

    /// The signals that end a run cleanly: SIGTERM, and SIGHUP unless it was ignored when mrsh started.
    public static let ending: [Int32] = hangUpIgnored ? [SIGTERM] : [SIGTERM, SIGHUP]

    /// True when the process started with SIGHUP ignored (`nohup mrsh ...`): it stays ignored.
    private static let hangUpIgnored: Bool = {
        var current = sigaction()
        sigaction(SIGHUP, nil, &current)
        // Function pointers are not Equatable: compare their addresses (SIG_IGN is the constant 1).
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }()

    private init() {}

    /// Installs the handler (restarting interrupted system calls) and starts the watcher; idempotent.
    func install() {
        _ = Self.hangUpIgnored  // read before any handler of mrsh's is installed
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
                let number = Int32(byte)
                if let current = action.withLock({ $0 }) {
                    if Self.ending.contains(number) { terminated.store(number, ordering: .releasing) }
                    current(number)
                } else if Self.ending.contains(number), let cleanUp = promptCleanUp.withLock({ $0 }) {
                    // At the shell's prompt: no statement to cancel, only what the session holds.
                    cleanUp()
                    Self.endProcess(by: number)
                }
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

    /// Sets what Ctrl-C (and a caught SIGTERM) does while a statement runs, given the signal (nil: nothing).
    func onInterrupt(_ newAction: (@Sendable (Int32) -> Void)?) {
        action.withLock { $0 = newAction }
    }

    /// While a statement runs (true), SIGTERM and SIGHUP go through the pipe like Ctrl-C; at the prompt
    /// (false) too when the shell set a `leavingAtPrompt` clean-up, else they have their default action.
    func catchingTerminate(_ catching: Bool) {
        guard installed.load(ordering: .acquiring) else { return }
        let catchAtPrompt = promptCleanUp.withLock { $0 != nil }
        for number in Self.ending { Self.handle(number, catching || catchAtPrompt) }
    }

    /// The shell's clean-up for a SIGTERM or SIGHUP at its prompt (its terminal closed, a service manager's
    /// stop): it runs on the watcher thread, synchronously, and the process then ends by that signal.
    public func leavingAtPrompt(_ cleanUp: @escaping @Sendable () -> Void) {
        install()
        promptCleanUp.withLock { $0 = cleanUp }
        catchingTerminate(false)
    }

    private static func handle(_ number: Int32, _ catching: Bool) {
        var sa = sigaction()
        if catching {
            sa.__sigaction_handler.sa_handler = mrshInterruptHandler
        } else {
            sa.__sigaction_handler.sa_handler = SIG_DFL
        }
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = SA_RESTART
        sigaction(number, &sa, nil)
    }

    /// Turns SIGINT, SIGTERM and SIGHUP into cancellation of `task` while it runs (a script, a one-shot
    /// statement): the job is cancelled on every worker and what it wrote is removed, where being killed
    /// outright would leave `DIR/_temporary` behind. A second signal ends the process at once. Afterwards the
    /// signals have their default action again. Returns the task's value and the first signal (nil when none arrived).
    public static func cancelling<T: Sendable>(_ task: Task<T, Never>) async -> (value: T, signal: Int32?) {
        let monitor = shared
        monitor.install()
        let received = Mutex<(count: Int, first: Int32?)>((0, nil))
        monitor.onInterrupt { number in
            let count = received.withLock { state -> Int in
                state.count += 1
                state.first = state.first ?? number
                return state.count
            }
            if count > 1 { endProcess(by: number) }
            task.cancel()
        }
        handle(SIGINT, true)
        for number in ending { handle(number, true) }
        let value = await task.value
        handle(SIGINT, false)
        for number in ending { handle(number, false) }
        monitor.onInterrupt(nil)
        return (value, received.withLock { $0.first })
    }

    /// For the long-lived `mrsh coordinator` and `mrsh worker`: from now on SIGINT, SIGTERM and SIGHUP run `cleanUp`
    /// (on the watcher thread: it may take locks and remove files) and then end the process by that signal,
    /// so that a service manager's stop leaves no scratch directory behind. A second signal meanwhile ends
    /// the process at once.
    public static func endingProcessAfter(_ cleanUp: @escaping @Sendable () -> Void) {
        let monitor = shared
        monitor.install()
        let received = Atomic<Int>(0)
        monitor.onInterrupt { number in
            if received.wrappingAdd(1, ordering: .relaxed).newValue > 1 { endProcess(by: number) }
            cleanUp()
            endProcess(by: number)
        }
        handle(SIGINT, true)
        for number in ending { handle(number, true) }
    }

    /// Ends the process by `number` with its default action (the parent sees the signal); with its
    /// `ExecutionStatus` (128 + number) if that cannot be done.
    public static func endProcess(by number: Int32) -> Never {
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        _exit(ExecutionStatus(endedBy: number).rawValue)
    }
}

/// The SIGINT, SIGTERM and SIGHUP handler: see `InterruptMonitor`. The byte written is the signal's number.
private func mrshInterruptHandler(_ signal: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(InterruptMonitor.shared.writeFD.load(ordering: .acquiring), &byte, 1)
    errno = savedErrno
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMrshShims

/// What a task gives the `stream` stages of its pipelines.
public struct StreamContext: Sendable {
    /// Whether this process may run commands (a worker started with `--allow-stream`, the in-process
    /// engine); a `stream` stage that is not allowed fails its task.
    public var allowed: Bool
    /// The directory commands run in (the task's scratch directory); nil: this process's.
    public var directory: String?
    /// Receives every line a command writes to its standard error (the task's log).
    public var log: (@Sendable (String) -> Void)?
    /// Polled while waiting for a command: cancelling kills it.
    public var cancel: CancellationFlag?

    public init(
        allowed: Bool, directory: String? = nil, log: (@Sendable (String) -> Void)? = nil, cancel: CancellationFlag? = nil
    ) {
        self.allowed = allowed
        self.directory = directory
        self.log = log
        self.cancel = cancel
    }

    /// The environment variables a command sees (those set in this process); every other one is dropped.
    public static let environmentNames = [
        "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL",
    ]

    /// How many of a command's last standard error lines a failure names.
    static let stderrTailLines = 20

    /// This context with every standard error line also added to `log` (the attempt's `TaskLog`).
    public func logging(to log: TaskLog?) -> StreamContext {
        guard let log else { return self }
        var context = self
        let previous = log
        let earlier = self.log
        context.log = { line in
            earlier?(line)
            previous.add("stream stderr: " + line)
        }
        return context
    }
}

/// `stream "COMMAND"`: runs COMMAND with `/bin/sh -c` once per task (started by the first record, or by
/// `finish` when none came), writes the records to its standard input as lines and hands the lines of its
/// standard output, as records, to the rest of the pipeline, as Hadoop Streaming does.
///
/// One thread does everything: records are copied into a 256 KiB buffer; a full buffer is written to the
/// command's (non-blocking) standard input while `poll(2)` also serves its standard output (cut into
/// lines, each passed to `next` on this same thread, so downstream state needs no locks) and its standard
/// error (the last lines kept for a failure, every line to the task's log). `finish` closes standard input,
/// drains both outputs to their ends and reaps the command. A command that stops reading (EPIPE) gets no
/// more records, as in a shell pipeline; only its exit status decides whether the task succeeded.
///
/// The stage's own failures (the command cannot start, exits non-zero, is killed, an I/O error) cannot be
/// thrown by a `rethrows` `process`: they are kept in `failure` (the stage then drops its input) and
/// `RecordPipeline.processChecked` and `finish` throw them.
final class StreamStage: RecordStage {
    let command: String
    private let context: StreamContext?
    private(set) var failure: (any Error)?

    private static let bufferSize = 256 << 10
    private var pid: pid_t = 0
    private var started = false
    private var finished = false
    private var stdinFD: Int32 = -1
    private var stdoutFD: Int32 = -1
    private var stderrFD: Int32 = -1
    /// Records not yet written to the command.
    private let input: UnsafeMutableRawPointer
    private var inputCount = 0
    /// Bytes read from the command's standard output: `output[0..<outputCount]`, a partial last line at most
    /// once the complete lines were handed on.
    private var output: UnsafeMutableRawPointer
    private var outputCapacity: Int
    private var outputCount = 0
    /// The command's standard error: a partial line, and the last complete lines.
    private var stderrPartial: [UInt8] = []
    private var stderrTail: [String] = []

    init(_ command: String, context: StreamContext?) {
        self.command = command
        self.context = context
        input = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
        outputCapacity = Self.bufferSize
        output = UnsafeMutableRawPointer.allocate(byteCount: outputCapacity, alignment: 16)
    }

    deinit {
        // A task that failed elsewhere (or stopped early) leaves its command running: end it.
        if started && !finished {
            closeAll()
            if pid > 0 {
                _ = kill(pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
        }
        input.deallocate()
        output.deallocate()
    }

    /// `SIGPIPE` ignored process-wide once (the `mrsh` binary does this at start; test processes and other
    /// hosts of the data path may not): a command that stops reading must not kill this process.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    @inline(__always)
    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer, next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        if !started { start() }
        guard failure == nil, stdinFD >= 0 else { return }
        let needed = record.count + 1
        if inputCount + needed > Self.bufferSize {
            try flushInput(next)
            if needed > Self.bufferSize {
                // A record longer than the buffer goes straight from its own bytes.
                if let base = record.baseAddress { try pumpWrite(base, record.count, next) }
                var newline: UInt8 = 0x0A
                try withUnsafeMutablePointer(to: &newline) { try pumpWrite(UnsafeRawPointer($0), 1, next) }
                return
            }
        }
        if let base = record.baseAddress { (input + inputCount).copyMemory(from: base, byteCount: record.count) }
        input.storeBytes(of: 0x0A, toByteOffset: inputCount + record.count, as: UInt8.self)
        inputCount += needed
    }

    /// The end of the task's records: writes what is left, closes the command's standard input, hands on
    /// the rest of its output (a last line without a newline too) and waits for it. Afterwards `failure`
    /// says whether it succeeded.
    func finish(_ next: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        if !started { start() }
        guard failure == nil, !finished else { return }
        try flushInput(next)
        if stdinFD >= 0 {
            close(stdinFD)
            stdinFD = -1
        }
        while failure == nil && (stdoutFD >= 0 || stderrFD >= 0) {
            try pollOnce(next)
        }
        if outputCount > 0 && failure == nil {
            let count = outputCount
            outputCount = 0
            try next(UnsafeRawBufferPointer(start: output, count: count))
        }
        if stderrFD < 0 && !stderrPartial.isEmpty { keepStderrLine() }
        closeAll()
        reap()
    }

    // MARK: starting and ending the command

    private func start() {
        started = true
        guard let context, context.allowed else {
            failure = EngineError.failed(
                "stream \"\(command)\": this worker does not run commands (start it with --allow-stream)")
            return
        }
        _ = Self.ignoreBrokenPipes
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        do {
            try sys("pipe") { mrsh_pipe_cloexec(&stdinPipe) }
            try sys("pipe") { mrsh_pipe_cloexec(&stdoutPipe) }
            try sys("pipe") { mrsh_pipe_cloexec(&stderrPipe) }
        } catch {
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            failure = EngineError.failed("stream \"\(command)\": cannot make a pipe: \(error)")
            return
        }
        // Bigger pipes mean fewer wake-ups (1 MiB is the unprivileged limit; a failure changes nothing).
        let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ
        _ = fcntl(stdinPipe[1], setPipeSize, Int32(1 << 20))
        _ = fcntl(stdoutPipe[1], setPipeSize, Int32(1 << 20))
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let environment = StreamContext.environmentNames.compactMap { name in getenv(name).map { "\(name)=\(String(cString: $0))" } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let error = argv.withUnsafeBufferPointer { args in
            envp.withUnsafeBufferPointer { env in
                // Safe: the buffers of non-empty arrays have base addresses.
                mrsh_spawn_piped(
                    &child, "/bin/sh", args.baseAddress!, env.baseAddress!, context.directory,
                    stdinPipe[0], stdoutPipe[1], stderrPipe[1])
            }
        }
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        stdinFD = stdinPipe[1]
        stdoutFD = stdoutPipe[0]
        stderrFD = stderrPipe[0]
        if error != 0 {
            closeAll()
            failure = EngineError.failed(
                "stream \"\(command)\": cannot start /bin/sh: \(String(cString: strerror(error)))")
            return
        }
        pid = child
        for fd in [stdinFD, stdoutFD, stderrFD] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    private func closeAll() {
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        stdinFD = -1
        stdoutFD = -1
        stderrFD = -1
    }

    /// Waits for the command and turns a non-zero exit or a signal into `failure`.
    private func reap() {
        finished = true
        guard pid > 0 else { return }
        var status: Int32 = 0
        var result: pid_t
        if let cancel = context?.cancel {
            // A command may outlive its closed outputs: wait without blocking, so cancelling still kills it.
            while true {
                result = waitpid(pid, &status, WNOHANG)
                if result != 0 && !(result < 0 && errno == EINTR) { break }
                if cancel.isCancelled {
                    cancelled()
                    return
                }
                usleep(1000)
            }
        } else {
            repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        }
        pid = 0
        guard result > 0, failure == nil else { return }
        let signalNumber = status & 0x7F
        if signalNumber == 0 {
            let code = (status >> 8) & 0xFF
            if code != 0 { fail("exited with status \(code)") }
        } else {
            let name = strsignal(signalNumber).map { String(cString: $0) } ?? "signal"
            fail("was killed by signal \(signalNumber) (\(name))")
        }
    }

    /// Fails with `what` the command did and the last lines of its standard error.
    private func fail(_ what: String) {
        var message = "stream \"\(command)\" \(what)"
        if stderrTail.isEmpty {
            message += " (no standard error output)"
        } else {
            message += "; the last lines of its standard error:\n  " + stderrTail.joined(separator: "\n  ")
        }
        failure = EngineError.failed(message)
    }

    /// Kills the command for a cancelled task.
    private func cancelled() {
        if pid > 0 { _ = kill(pid, SIGKILL) }
        closeAll()
        var status: Int32 = 0
        if pid > 0 { while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }
        pid = 0
        finished = true
        failure = EngineError.cancelled
    }

    // MARK: moving bytes

    private func flushInput(_ next: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard inputCount > 0 else { return }
        let count = inputCount
        inputCount = 0
        if stdinFD >= 0 { try pumpWrite(UnsafeRawPointer(input), count, next) }
    }

    /// Writes `count` bytes at `bytes` to the command, serving its outputs meanwhile. Stops early when the
    /// command closed its standard input (the bytes are dropped) or the stage failed.
    private func pumpWrite(_ bytes: UnsafeRawPointer, _ count: Int, _ next: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var offset = 0
        while offset < count && stdinFD >= 0 && failure == nil {
            let written = write(stdinFD, bytes + offset, count - offset)
            if written > 0 {
                offset += written
                continue
            }
            let code = errno
            if written < 0 && code == EINTR { continue }
            if written < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                try pollOnce(next)
                continue
            }
            // EPIPE: the command stopped reading, as `head` does; like a shell pipeline, carry on.
            close(stdinFD)
            stdinFD = -1
            if code != EPIPE {
                failure = EngineError.failed("stream \"\(command)\": write to its standard input: \(String(cString: strerror(code)))")
            }
        }
    }

    /// One `poll(2)` over the open descriptors (standard input for writing when bytes wait), then reads
    /// what is ready.
    private func pollOnce(_ next: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var fds: [pollfd] = []
        fds.reserveCapacity(3)
        if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
        if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        let timeout: Int32 = context?.cancel == nil ? -1 : 100
        let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if let cancel = context?.cancel, cancel.isCancelled {
            cancelled()
            return
        }
        if ready < 0 {
            if errno == EINTR { return }
            failure = EngineError.failed("stream \"\(command)\": poll: \(String(cString: strerror(errno)))")
            return
        }
        for entry in fds where entry.revents != 0 {
            if entry.fd == stdoutFD {
                try readOutput(next)
            } else if entry.fd == stderrFD {
                readStderr()
            } else if entry.fd == stdinFD && entry.revents & Int16(POLLERR) != 0 {
                // The read end is closed: the next write sees EPIPE.
                continue
            }
        }
    }

    /// Reads the command's standard output once and hands on every complete line.
    private func readOutput(_ next: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        if outputCount == outputCapacity {
            // A line longer than the buffer: grow it (rare; lines are usually far shorter).
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: outputCapacity * 2, alignment: 16)
            bigger.copyMemory(from: output, byteCount: outputCount)
            output.deallocate()
            output = bigger
            outputCapacity *= 2
        }
        let count = read(stdoutFD, output + outputCount, outputCapacity - outputCount)
        if count == 0 {
            close(stdoutFD)
            stdoutFD = -1
            return
        }
        if count < 0 {
            let code = errno
            if code == EINTR || code == EAGAIN || code == EWOULDBLOCK { return }
            close(stdoutFD)
            stdoutFD = -1
            failure = EngineError.failed("stream \"\(command)\": read its standard output: \(String(cString: strerror(code)))")
            return
        }
        let scanFrom = outputCount
        outputCount += count
        var lineStart = 0
        var position = scanFrom
        while position < outputCount {
            guard let found = memchr(output + position, 0x0A, outputCount - position) else { break }
            let end = output.distance(to: found)
            try next(UnsafeRawBufferPointer(start: output + lineStart, count: end - lineStart))
            lineStart = end + 1
            position = lineStart
        }
        if lineStart > 0 {
            let rest = outputCount - lineStart
            if rest > 0 { output.copyMemory(from: output + lineStart, byteCount: rest) }
            outputCount = rest
        }
    }

    private func readStderr() {
        var chunk = [UInt8](repeating: 0, count: 8192)
        let count = chunk.withUnsafeMutableBytes { read(stderrFD, $0.baseAddress, $0.count) }
        if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) {
            close(stderrFD)
            stderrFD = -1
            if !stderrPartial.isEmpty { keepStderrLine() }
            return
        }
        guard count > 0 else { return }
        for byte in chunk[0..<count] {
            if byte == 0x0A {
                keepStderrLine()
            } else if stderrPartial.count < 1000 {
                stderrPartial.append(byte)
            }
        }
    }

    private func keepStderrLine() {
        let line = String(decoding: stderrPartial, as: UTF8.self)
        stderrPartial.removeAll(keepingCapacity: true)
        context?.log?(line)
        stderrTail.append(line)
        if stderrTail.count > StreamContext.stderrTailLines { stderrTail.removeFirst() }
    }
}

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CLibEdit
import Foundation

/// A child process on a pseudo-terminal, for tests that type keys and read the screen.
///
/// The child is spawned with `posix_spawn` in a new session whose controlling terminal is the pty's
/// slave (so Ctrl-C reaches it as SIGINT). `expect` polls the master until text appears or a deadline
/// passes; there are no fixed sleeps.
public final class PseudoTerminal {
    public struct Timeout: Error, CustomStringConvertible {
        public var waitingFor: String
        public var screen: String
        public var description: String { "timed out waiting for \(waitingFor.debugDescription); screen so far:\n\(screen)" }
    }

    public let master: Int32
    public let pid: pid_t
    /// Everything the child has written, escape sequences included.
    public private(set) var transcript: [UInt8] = []
    /// Where the next `expect` starts looking.
    private var mark = 0

    public init(executable: String, arguments: [String], environment: [String: String], directory: String, columns: UInt16 = 120) throws {
        BrokenPipes.ignore()
        var name = [CChar](repeating: 0, count: 128)
        let fd = mrsh_open_pty(O_RDWR | O_NOCTTY, &name, name.count)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        let slavePath = String(cString: name)
        var size = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, UInt(TIOCSWINSZ), &size)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid, opening the slave without O_NOCTTY makes it the controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, fd)
        mrsh_spawn_file_actions_addchdir(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        let setsid = mrsh_spawn_setsid_flag()
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, setsid | Int16(POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.init(rawValue: rc) ?? .EIO)
        }
        master = fd
        pid = child
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }

    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }

    /// Waits until `text` appears after the previous match (escape sequences removed) and returns
    /// the screen text up to and including it.
    @discardableResult
    public func expect(_ text: String, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let visible = Self.strip(Array(transcript[mark...]))
            if let range = visible.range(of: text) {
                // Advance the mark past the match in the raw transcript: the shortest raw prefix whose
                // stripped text holds the match (stripped length grows with the prefix: bisect).
                let target = visible.distance(from: visible.startIndex, to: range.upperBound)
                var (low, high) = (mark, transcript.count)
                while low < high {
                    let middle = (low + high) / 2
                    if Self.strip(Array(transcript[mark..<middle])).count < target { low = middle + 1 } else { high = middle }
                }
                mark = low
                return String(visible[..<range.upperBound])
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw Timeout(waitingFor: text, screen: Self.strip(transcript)) }
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 0.5) * 1000))
            if ready > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(master, &buffer, buffer.count)
                if n > 0 { transcript.append(contentsOf: buffer[0..<n]) }
                else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    throw Timeout(waitingFor: text + " (the terminal closed)", screen: visible)
                }
            }
        }
    }

    /// Waits for the child to exit and returns its status (or nil after the timeout).
    public func waitForExit(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            // Keep draining the master so the child never blocks writing.
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 50) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(master, &buffer, buffer.count)
                if n > 0 { transcript.append(contentsOf: buffer[0..<n]) }
            }
            if waitpid(pid, &status, WNOHANG) == pid {
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
        }
        return nil
    }

    /// The transcript without ANSI escape sequences and carriage returns.
    public static func strip(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x1B {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "[") {
                    i += 1
                    while i < bytes.count, !(0x40...0x7E).contains(bytes[i]) { i += 1 }
                }
                i += 1
                continue
            }
            if b != UInt8(ascii: "\r") && b != 0x07 { out.append(b) }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

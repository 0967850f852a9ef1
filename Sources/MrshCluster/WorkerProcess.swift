import CMrshShims
import Glibc
import MrshDataPath
import Synchronization

/// A worker process of the embedded cluster, started with posix_spawn(3) (`mrsh_spawn_quiet`) rather than
/// Foundation's `Process`, whose child resets every signal and closes every descriptor one by one before
/// exec while the spawning thread waits: 15-50 ms per worker on a loaded 2-core machine.
final class WorkerProcess: Sendable {
    let pid: pid_t
    /// The wait status once reaped.
    private let reaped = Mutex<Int32?>(nil)

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` with `arguments` (standard input and output on /dev/null, standard error
    /// inherited); throws `SystemError` when it cannot start.
    static func spawn(executable: String, arguments: [String]) throws -> WorkerProcess {
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let error = argv.withUnsafeBufferPointer { buffer in
            // Safe: the buffer of a non-empty array has a base address.
            mrsh_spawn_quiet(&pid, executable, buffer.baseAddress!)
        }
        if error != 0 { throw SystemError(call: "posix_spawn", subject: executable, errno: error) }
        return WorkerProcess(pid: pid)
    }

    /// The exit status (or 128 + signal) if the process has ended (reaping it), nil while it runs.
    func exitStatus() -> Int32? {
        reaped.withLock { status in
            if status == nil {
                var raw: Int32 = 0
                let result = waitpid(pid, &raw, WNOHANG)
                if result == pid {
                    status = raw
                } else if result < 0 && errno == ECHILD {
                    status = 0
                }
            }
            return status.map(Self.describe)
        }
    }

    /// SIGKILLs the process unless it was reaped already.
    func kill() {
        reaped.withLock { status in
            if status == nil { _ = Glibc.kill(pid, SIGKILL) }
        }
    }

    /// Waits for the process to end (blocking the calling thread) and reaps it.
    func waitUntilExit() {
        reaped.withLock { status in
            guard status == nil else { return }
            var raw: Int32 = 0
            while true {
                let result = waitpid(pid, &raw, 0)
                if result == pid { break }
                if result < 0 && errno != EINTR {
                    raw = 0
                    break
                }
            }
            status = raw
        }
    }

    /// exit(3) status, or 128 + the signal number that ended the process (as shells report it).
    private static func describe(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

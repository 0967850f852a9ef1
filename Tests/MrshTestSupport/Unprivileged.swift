#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Runs the built binary as an ordinary account (`nobody`), the way a real user runs mrsh.
///
/// CI, the developers and so every test run are root, and root may do what a user may not (set `SO_DEBUG`,
/// write into another user's directories, read any file). The tests that start `mrsh` processes therefore
/// also start them through `setpriv --reuid nobody --regid nogroup --clear-groups` in a folder that user
/// owns. Where that cannot be done (not root, no `setpriv`, no `nobody` account), `unavailableReason` says
/// why, and the tests that need it skip with that reason.
public enum Unprivileged {
    /// The account the tests drop to.
    public struct Account: Sendable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t
    }

    /// `setpriv` from util-linux.
    public static let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// `nobody` with its primary group (Debian: `nogroup`).
    public static let account: Account? = {
        guard let entry = getpwnam("nobody") else { return nil }
        return Account(name: "nobody", uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }()

    /// Why the tests cannot run a process as an ordinary user here, or nil when they can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "the tests run as an ordinary user already (uid \(geteuid())): nothing to drop" }
        if setpriv == nil { return "setpriv (util-linux) is not installed, so the tests cannot drop privileges" }
        if account == nil { return "there is no 'nobody' account to drop privileges to" }
        return nil
    }()

    /// True when processes can be started as `nobody`.
    public static var isAvailable: Bool { unavailableReason == nil }

    /// The command line that runs `executable arguments` as `nobody`: `setpriv`'s path and its arguments.
    public static func command(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        guard let setpriv, let account else { return (executable, arguments) }
        return (
            setpriv,
            ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", executable] + arguments
        )
    }

    /// A new directory owned by `nobody` (mode 0700, as a user's own folder is), under the system's temporary
    /// directory. The caller removes it with `remove(_:)`.
    public static func makeOwnedDirectory(prefix: String = "mrsh-nobody") throws -> String {
        guard let account else { throw Failure("no 'nobody' account") }
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("mkdtemp failed: errno \(errno)") }
        let path = String(cString: made)
        guard chown(path, account.uid, account.gid) == 0, chmod(path, 0o700) == 0 else {
            throw Failure("cannot give \(path) to nobody: errno \(errno)")
        }
        return path
    }

    /// Writes `contents` to `path` as a file `nobody` owns, with `mode`.
    public static func writeOwnedFile(_ path: String, _ contents: Data, mode: mode_t = 0o600) throws {
        guard let account else { throw Failure("no 'nobody' account") }
        try contents.write(to: URL(fileURLWithPath: path))
        guard chown(path, account.uid, account.gid) == 0, chmod(path, mode) == 0 else {
            throw Failure("cannot give \(path) to nobody: errno \(errno)")
        }
    }

    /// Gives every file and directory under `path` to `nobody` (fixtures written by the root test process).
    public static func giveTree(_ path: String) throws {
        guard let account else { throw Failure("no 'nobody' account") }
        guard chown(path, account.uid, account.gid) == 0 else { throw Failure("chown \(path): errno \(errno)") }
        let walker = FileManager.default.enumerator(atPath: path)
        while let item = walker?.nextObject() as? String {
            guard chown(path + "/" + item, account.uid, account.gid) == 0 else {
                throw Failure("chown \(path)/\(item): errno \(errno)")
            }
        }
    }

    /// `binary` when `nobody` can execute it where it is (every directory above it searchable by others),
    /// else one copy of it that nobody can execute, made once per test process (in `/tmp`, removed at exit;
    /// `directory` is no longer used for it).
    ///
    /// One copy, not one per test: every test target runs in this one process, and a child another test
    /// forks while a copy is being written inherits its write descriptor until it execs, so executing a
    /// fresh copy can fail with "Text file busy" (ETXTBSY). The copy is written with O_CLOEXEC and tried as
    /// nobody until it runs.
    public static func reachableBinary(_ binary: String, copyInto directory: String) throws -> String {
        var current = URL(fileURLWithPath: binary).deletingLastPathComponent()
        var reachable = true
        while current.path != "/" {
            var info = stat()
            if stat(current.path, &info) != 0 || info.st_mode & 0o001 == 0 { reachable = false }
            current = current.deletingLastPathComponent()
        }
        if reachable { return binary }
        return try sharedCopy.withLock { copy in
            if let copy { return copy }
            let made = try makeCopy(of: binary)
            copy = made
            return made
        }
    }

    private static let sharedCopy = Mutex<String?>(nil)

    /// Where the shared copy lives, for the exit handler (a C function pointer captures nothing). Safe without
    /// a lock: written once, inside `sharedCopy`'s lock, before the handler that reads it is registered.
    nonisolated(unsafe) private static var copyDirectory: UnsafeMutablePointer<CChar>?

    private static func makeCopy(of binary: String) throws -> String {
        var template = Array("/tmp/mrsh-nobody-bin-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("mkdtemp failed: errno \(errno)") }
        let directory = String(cString: made)
        guard chmod(directory, 0o755) == 0 else { throw Failure("chmod \(directory): errno \(errno)") }
        let path = directory + "/mrsh"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: binary))
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw Failure("cannot create \(path): errno \(errno)") }
        let written = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)  // raw is non-empty: a binary
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        close(fd)
        guard written, chmod(path, 0o755) == 0 else { throw Failure("cannot write \(path): errno \(errno)") }
        copyDirectory = strdup(directory)
        atexit {
            if let directory = Unprivileged.copyDirectory {
                let path = String(cString: directory)
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        // Until every child forked while the copy was open has exec'd, running it may fail with ETXTBSY.
        for _ in 0..<100 {
            let (executable, arguments) = command(path, ["--help"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil {
                process.waitUntilExit()
                if process.terminationStatus == 0 { return path }
            }
            usleep(20_000)
        }
        throw Failure("the copy \(path) of the binary does not run as nobody")
    }

    /// The environment an ordinary user's login has: this one without root's variables, `HOME` and `TMPDIR`
    /// given, `USER` and `LOGNAME` naming the account.
    public static func environment(home: String, temporary: String?, extra: [String: String] = [:]) -> [String: String] {
        var environment: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home, "USER": "nobody", "LOGNAME": "nobody", "LANG": "C.UTF-8",
        ]
        if let temporary { environment["TMPDIR"] = temporary }
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Removes a directory the tests made (root may remove what `nobody` wrote in it).
    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}

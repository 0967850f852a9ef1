#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin helpers over file descriptors, all through `sys` (EINTR retried, errors name the call).
public enum FileIO {
    package static func openForReading(_ path: String) throws -> Int32 {
        try sys("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
    }

    static func create(_ path: String) throws -> Int32 {
        try sys("open", path) { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    }

    package static func closeQuietly(_ fd: Int32) {
        _ = close(fd)
    }

    static func size(ofDescriptor fd: Int32, path: String) throws -> Int64 {
        var info = stat()
        try sys("fstat", path) { fstat(fd, &info) }
        return Int64(info.st_size)
    }

    /// Size, or nil when the path does not exist.
    package static func size(of path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Reads up to `count` bytes at `offset` (pread), returning how many were read (0 at end of file).
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64, path: String)
        throws -> Int
    {
        try sys("pread", path) { pread(fd, buffer, count, off_t(offset)) }
    }

    /// Writes all of `bytes`, retrying short writes and `EINTR` (and `EAGAIN` when `waitWhenBusy`, for a
    /// terminal left non-blocking by another program): the one write-all loop of mrsh.
    package static func writeAll(
        _ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, waitWhenBusy: Bool = false
    ) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            // base address is non-nil: count > done >= 0 means the buffer is not empty.
            let base = bytes.baseAddress.map { $0 + done }
            let n = write(fd, base, bytes.count - done)
            if n >= 0 {
                done += n
                continue
            }
            let code = errno
            if code == EINTR || (waitWhenBusy && code == EAGAIN) { continue }
            throw SystemError(call: "write", subject: path, errno: code)
        }
    }

    package static func rename(_ from: String, _ to: String) throws {
        try sys("rename", from) { Glibc.rename(from, to) }
    }

    package static func unlinkQuietly(_ path: String) {
        _ = unlink(path)
    }

    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// `mkdir -p`; returns the directories it created, outermost first.
    @discardableResult
    public static func makeDirectories(_ path: String) throws -> [String] {
        if isDirectory(path) { return [] }
        var created: [String] = []
        let parent = parentDirectory(path)
        if parent != path { created = try makeDirectories(parent) }
        let result = mkdir(path, 0o755)
        if result != 0 && errno != EEXIST {
            throw SystemError(call: "mkdir", subject: path, errno: errno)
        }
        if result == 0 { created.append(path) }
        return created
    }

    /// `$TMPDIR`, or /tmp.
    public static var temporaryDirectory: String {
        if let value = getenv("TMPDIR"), value.pointee != 0 { return String(cString: value) }
        return "/tmp"
    }

    /// A new directory `$TMPDIR/PREFIX-XXXXXX` (mode 0700, unique by `mkdtemp`), for a process's scratch:
    /// never a name another user or an earlier process of the same pid may already hold.
    public static func makeUniqueTemporaryDirectory(prefix: String) throws -> String {
        let template = temporaryDirectory + "/" + prefix + "-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw SystemError(call: "mkdtemp", subject: template, errno: errno) }
        return String(cString: made)
    }

    package static func parentDirectory(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    /// Names in a directory, without "." and "..", sorted bytewise.
    package static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            throw SystemError(call: "opendir", subject: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// `rm -rf`, ignoring errors: an entry that vanished meanwhile (another process removing the same tree)
    /// does not stop it, unlike `FileManager.removeItem`, which gives up at the first error.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if let names = try? listDirectory(path) {
                for name in names { removeTree(path + "/" + name) }
            }
            _ = rmdir(path)
        } else {
            _ = unlink(path)
        }
    }
}

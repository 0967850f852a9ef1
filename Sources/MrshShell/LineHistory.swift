@preconcurrency import CLibEdit
import Foundation

/// libedit's history: entries (a multi-line statement is one entry, its lines joined by newlines),
/// loaded from and saved to a file in libedit's own format (first line `_HiStOrY_V2_`).
final class LineHistory {
    /// libedit's `History *`.
    let handle: OpaquePointer
    let path: String?

    /// - Parameter path: the history file, or nil to keep history in memory only.
    init(path: String?, size: Int = 1000) {
        // history_init returns NULL only when malloc fails, which the shell cannot survive anyway.
        guard let h = mrsh_history_init() else { fatalError("mrsh: out of memory (libedit history_init)") }
        handle = h
        self.path = path
        _ = mrsh_history_setsize(h, Int32(size))
        _ = mrsh_history_setunique(h, 1)
    }

    deinit { history_end(handle) }

    /// The default file: `$MRSH_HISTORY`, else `~/.mrsh_history`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["MRSH_HISTORY"], !path.isEmpty { return path }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.mrsh_history"
    }

    /// Loads the file if it exists; a missing or unreadable file leaves history empty.
    func load() {
        guard let path, FileManager.default.fileExists(atPath: path), !Self.isSpecialFile(path) else { return }
        _ = mrsh_history_load(handle, path)
    }

    /// Saves to the file (libedit makes it mode 0600); returns why it cannot be written, or nil. A path that
    /// is not a regular file (`MRSH_HISTORY=/dev/null`, a FIFO) means no history file: it is left alone, so
    /// that libedit's `fchmod` never makes `/dev/null` 0600 for everyone (as root it would) and a FIFO
    /// nobody reads does not hang the shell.
    @discardableResult
    func save() -> String? {
        guard let path, !Self.isSpecialFile(path) else { return nil }
        errno = 0
        guard mrsh_history_save(handle, path) < 0 else { return nil }
        let reason = errno == 0 ? "libedit could not write it" : String(cString: strerror(errno))
        return "cannot save history to '\(path)' (history_save: \(reason)); MRSH_HISTORY names another file"
    }

    /// Whether `path` exists and is not a regular file (a device, a FIFO, a directory, a socket).
    static func isSpecialFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & S_IFMT != S_IFREG
    }

    /// Adds a statement (trailing newlines dropped; empty statements are not kept).
    func add(_ entry: String) {
        var text = Substring(entry)
        while text.last == "\n" || text.last == "\r" { text = text.dropLast() }
        guard !text.allSatisfy(\.isWhitespace) else { return }
        _ = mrsh_history_enter(handle, String(text))
    }

    /// Every entry, oldest first.
    var entries: [String] {
        var result: [String] = []
        var next = mrsh_history_step(handle, H_LAST)
        while let cString = next {
            result.append(String(cString: cString))
            next = mrsh_history_step(handle, H_PREV)
        }
        return result
    }
}

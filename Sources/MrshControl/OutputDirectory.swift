#if canImport(Glibc)
import MrshDataPath
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The atomic commit of a job's `write DIR` output.
///
/// Tasks write `<work>/_temporary/<attempt-unique name>`; `commit` renames the winners to
/// `<work>/part-NNNNN`, removes `_temporary` and writes an empty `_SUCCESS`. `<work>` is the directory
/// itself, or with `overwrite` of an existing directory a hidden sibling that replaces it only on
/// success (old renamed away, new renamed in, old deleted). `abort` removes everything the job created,
/// including the directory when it did not exist before.
final class OutputDirectory {
    let path: String
    let overwrite: Bool
    private let run: String
    private(set) var workDirectory: String
    private var createdDirectories: [String] = []
    private var isSibling = false
    private var committedParts: [String] = []

    /// Checks, before anything runs, that the directory can be written.
    static func validate(path: String, overwrite: Bool) throws {
        if FileIO.exists(path) {
            guard FileIO.isDirectory(path) else {
                throw EngineError.invalid("output '\(path)' exists and is not a directory")
            }
            // Only `_temporary` left: the remains of a job whose coordinator died; it does not count.
            let names = ((try? FileIO.listDirectory(path)) ?? []).filter { $0 != "_temporary" }
            if !names.isEmpty && !overwrite { throw EngineError.outputExists(path: path) }
            if access(path, W_OK) != 0 {
                throw EngineError.outputNotCreatable(path: path, reason: "it is not writable")
            }
            if overwrite && access(FileIO.parentDirectory(path), W_OK) != 0 {
                throw EngineError.outputNotCreatable(path: path, reason: "its parent is not writable")
            }
            return
        }
        var ancestor = FileIO.parentDirectory(path)
        while !FileIO.exists(ancestor) {
            let next = FileIO.parentDirectory(ancestor)
            if next == ancestor { break }
            ancestor = next
        }
        guard FileIO.isDirectory(ancestor) else {
            throw EngineError.outputNotCreatable(path: path, reason: "'\(ancestor)' is not a directory")
        }
        guard access(ancestor, W_OK) == 0 else {
            throw EngineError.outputNotCreatable(path: path, reason: "'\(ancestor)' is not writable")
        }
    }

    init(path: String, overwrite: Bool, run: String) {
        self.path = path
        self.overwrite = overwrite
        self.run = run
        self.workDirectory = path
    }

    var temporaryDirectory: String { workDirectory + "/_temporary" }

    /// Creates the work directory and `_temporary`; returns what it did (journaled, for `resume`).
    @discardableResult
    func begin() throws -> DirectoryState {
        let names = FileIO.isDirectory(path) ? ((try? FileIO.listDirectory(path)) ?? []) : []
        if names == ["_temporary"] { FileIO.removeTree(path + "/_temporary") }  // a dead coordinator's remains
        let existingNonEmpty = names.contains { $0 != "_temporary" }
        if overwrite && existingNonEmpty {
            isSibling = true
            workDirectory = siblingName("new")
            createdDirectories = try FileIO.makeDirectories(workDirectory)
        } else {
            createdDirectories = try FileIO.makeDirectories(path)
        }
        try FileIO.makeDirectories(temporaryDirectory)
        return DirectoryState(created: createdDirectories, sibling: isSibling)
    }

    /// Takes up a directory that `begin()` made for this run before its coordinator restarted: the same
    /// work directory (the sibling's name follows from the run), its `_temporary` and what it holds kept.
    func resume(_ state: DirectoryState) throws {
        createdDirectories = state.created
        isSibling = state.sibling
        workDirectory = isSibling ? siblingName("new") : path
        // A commit that swapped the sibling in already left it at `path`: `commit` sees that.
        if !isSibling || FileIO.exists(workDirectory) { try FileIO.makeDirectories(temporaryDirectory) }
    }

    /// Names the attempt-unique file in `_temporary` where attempt `attempt` of part `part` (a reduce task's,
    /// or a map-only job's map task's) writes; sendable, for the tasks' destinations.
    func attemptFileNamer() -> @Sendable (_ part: Int, _ attempt: Int) -> String {
        let directory = temporaryDirectory
        let run = self.run
        return { part, attempt in directory + "/" + OutputDirectory.partName(part) + "-a\(attempt)-" + run }
    }

    static func partName(_ index: Int) -> String {
        let digits = String(index)
        return "part-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// Renames the winning attempts into place (in part order), writes `_SUCCESS`, and swaps in the
    /// new directory for an overwrite. Idempotent, so that a restarted coordinator finishes a commit its
    /// predecessor started (`resume`): a part already renamed, a `_SUCCESS` already written and each step of
    /// the swap already taken are recognised and skipped.
    func commit(parts: [String]) throws {
        let old = siblingName("old")
        // An overwrite whose swap already happened: the new directory is in place, the old one maybe not gone.
        if isSibling && !FileIO.exists(workDirectory) && FileIO.exists(path + "/_SUCCESS") {
            FileIO.removeTree(old)
            isSibling = false
            workDirectory = path
            return
        }
        for (index, part) in parts.enumerated() {
            let final = workDirectory + "/" + OutputDirectory.partName(index)
            if !FileIO.exists(part) && FileIO.exists(final) {
                committedParts.append(final)
                continue
            }
            try FileIO.rename(part, final)
            committedParts.append(final)
        }
        FileIO.removeTree(temporaryDirectory)
        var success = try BufferedWriter(creating: workDirectory + "/_SUCCESS", bufferSize: 64)
        try success.close()
        if isSibling {
            if FileIO.exists(path) && !FileIO.exists(old) { try FileIO.rename(path, old) }
            do {
                try FileIO.rename(workDirectory, path)
            } catch {
                try? FileIO.rename(old, path)
                throw error
            }
            FileIO.removeTree(old)
            isSibling = false
            workDirectory = path
        }
    }

    /// Removes everything the job created.
    func abort() {
        if isSibling {
            FileIO.removeTree(workDirectory)
            return
        }
        FileIO.removeTree(temporaryDirectory)
        for part in committedParts { FileIO.unlinkQuietly(part) }
        FileIO.unlinkQuietly(workDirectory + "/_SUCCESS")
        if let outermost = createdDirectories.first { FileIO.removeTree(outermost) }
    }

    private func siblingName(_ kind: String) -> String {
        let parent = FileIO.parentDirectory(path)
        var name = Substring(path)
        while name.count > 1 && name.hasSuffix("/") { name = name.dropLast() }
        let base = name.split(separator: "/").last.map(String.init) ?? "output"
        return (parent == "/" ? "" : parent) + "/." + base + ".mrsh-" + kind + "-" + run
    }
}

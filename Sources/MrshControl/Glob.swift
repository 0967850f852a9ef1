#if canImport(Glibc)
import MrshDataPath
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Expands `read` patterns into regular files, in name order.
///
/// Each `/`-separated segment of a pattern is matched with fnmatch(3) (`*`, `?`, `[...]`; a leading `.`
/// must be matched explicitly); a `**` segment matches any number of directories, including none. A
/// matched directory (or a directory named directly) stands for every regular file below it, skipping
/// names that start with `.` or `_` (so an earlier `write` directory reads as its parts only).
public enum Glob {
    /// The files of one pattern (sorted bytewise, no duplicates); empty when nothing matches.
    public static func expand(_ pattern: String) -> [String] {
        var matches: [String] = []
        if !hasMagic(pattern) {
            if FileIO.exists(pattern) { matches = [pattern] }
        } else {
            let absolute = pattern.hasPrefix("/")
            let segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            walk(prefix: absolute ? "/" : "", segments: segments[...], into: &matches)
        }
        var files: [String] = []
        for match in matches {
            if FileIO.isDirectory(match) {
                collectFiles(below: match, into: &files)
            } else if isRegularFile(match) {
                files.append(match)
            }
        }
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted }.sorted(by: bytewise)
    }

    static func bytewise(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func hasMagic(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    private static func join(_ prefix: String, _ name: String) -> String {
        if prefix.isEmpty { return name }
        return prefix.hasSuffix("/") ? prefix + name : prefix + "/" + name
    }

    private static func walk(prefix: String, segments: ArraySlice<String>, into matches: inout [String]) {
        guard let segment = segments.first else {
            if !prefix.isEmpty { matches.append(prefix) }
            return
        }
        let rest = segments.dropFirst()
        let directory = prefix.isEmpty ? "." : prefix
        if segment == "**" {
            walk(prefix: prefix, segments: rest, into: &matches)
            guard let names = try? FileIO.listDirectory(directory) else { return }
            for name in names where !name.hasPrefix(".") {
                let path = join(prefix, name)
                if FileIO.isDirectory(path) { walk(prefix: path, segments: segments, into: &matches) }
            }
            return
        }
        if !hasMagic(segment) {
            let path = join(prefix, segment)
            if FileIO.exists(path) { walk(prefix: path, segments: rest, into: &matches) }
            return
        }
        guard FileIO.isDirectory(directory), let names = try? FileIO.listDirectory(directory) else { return }
        for name in names where fnmatch(segment, name, FNM_PERIOD) == 0 {
            let path = join(prefix, name)
            if rest.isEmpty || FileIO.isDirectory(path) { walk(prefix: path, segments: rest, into: &matches) }
        }
    }

    private static func collectFiles(below directory: String, into files: inout [String]) {
        guard let names = try? FileIO.listDirectory(directory) else { return }
        for name in names where !name.hasPrefix(".") && !name.hasPrefix("_") {
            let path = join(directory, name)
            if FileIO.isDirectory(path) {
                collectFiles(below: path, into: &files)
            } else if isRegularFile(path) {
                files.append(path)
            }
        }
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFREG
    }
}

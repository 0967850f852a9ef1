import Foundation

/// Lists directories for path completion.
public enum FileSystemListing {
    /// The entries of `directory` as typed (`""` is the current directory, `~/` the home directory);
    /// empty when it cannot be read.
    @Sendable public static func list(_ directory: String) -> [Completer.DirectoryEntry] {
        var path = directory.isEmpty ? "." : directory
        if path == "~" || path.hasPrefix("~/") {
            path = NSHomeDirectory() + path.dropFirst()
        }
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: path) else { return [] }
        return names.map { name in
            var isDirectory: ObjCBool = false
            _ = manager.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
            return Completer.DirectoryEntry(name: name, isDirectory: isDirectory.boolValue)
        }
    }
}

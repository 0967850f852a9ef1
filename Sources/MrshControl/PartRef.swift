import MrshDataPath
import MrshPlan

/// One output of a finished job: a blob on some host, or a committed file; with its size in bytes.
public enum PartRef: Codable, Sendable, Equatable {
    case blob(BlobLocation, size: Int64)
    case file(path: String, size: Int64)

    var size: Int64 {
        switch self {
        case .blob(_, let size), .file(_, let size): return size
        }
    }

    /// The part as an input split of a later job.
    var split: InputSplit {
        switch self {
        case .blob(let location, _): return .blob(location)
        case .file(let path, let size): return .file(path: path, offset: 0, length: size)
        }
    }
}

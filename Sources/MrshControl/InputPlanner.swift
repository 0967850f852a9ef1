#if canImport(Glibc)
import MrshDataPath
import Glibc
#endif
import MrshPlan

/// Cuts a job's input into map tasks of about `splitSize` bytes: large files become several byte-range
/// splits; small files are grouped, in name order, into one task until the group reaches `splitSize`, so
/// thousands of small files make few tasks. Empty files are dropped.
public enum InputPlanner {
    /// A file and its size.
    public struct SizedInput: Sendable, Equatable {
        public var split: InputSplit
        public var size: Int64
        public init(split: InputSplit, size: Int64) {
            self.split = split
            self.size = size
        }
    }

    /// Expands the patterns; throws `EngineError.noMatch` naming the first pattern that matches nothing, and
    /// `EngineError.invalid` naming the first file this user may not read (before any task tries it).
    public static func expand(_ patterns: [String]) throws -> [String] {
        var files: [String] = []
        var seen = Set<String>()
        for pattern in patterns {
            let matched = Glob.expand(pattern)
            if matched.isEmpty { throw EngineError.noMatch(pattern: pattern) }
            for file in matched where seen.insert(file).inserted {
                if access(file, R_OK) != 0 {
                    throw EngineError.invalid("cannot read '\(file)': \(String(cString: strerror(errno)))")
                }
                files.append(file)
            }
        }
        return files
    }

    /// Splits of files with their sizes.
    public static func sizedFiles(_ files: [String]) throws -> [SizedInput] {
        try files.map { file in
            guard let size = FileIO.size(of: file) else {
                throw EngineError.failed("cannot read '\(file)': it no longer exists")
            }
            return SizedInput(split: .file(path: file, offset: 0, length: size), size: size)
        }
    }

    /// Map tasks a job should have per task slot of the cluster, when its input allows: enough that every
    /// worker gets work and that a lost or slow worker's share is spread thin (the paper wants M much larger
    /// than the number of workers).
    public static let tasksPerSlot = 2
    /// Splits are never made smaller than this to reach `tasksPerSlot` (a map task costs a round trip, a
    /// map output on disk and one fetch per reducer).
    public static let minimumSplit: Int64 = 4 << 20

    /// The split size for a job of `inputBytes` on a cluster of `slots` task slots: `largest` (the
    /// `--split-size`), made smaller so the job has at least `tasksPerSlot` map tasks per slot, but not below
    /// `minimumSplit` (nor above `largest`).
    public static func splitSize(inputBytes: Int64, slots: Int, largest: Int64) -> Int64 {
        let largest = max(1, largest)
        guard slots > 0, inputBytes > 0 else { return largest }
        let wanted = Int64(slots) * Int64(tasksPerSlot)
        let even = (inputBytes + wanted - 1) / wanted
        return min(largest, max(minimumSplit, even))
    }

    /// Groups inputs into tasks: a whole-file input larger than `splitSize` is cut into ranges of about
    /// `splitSize` (each its own task); smaller inputs are packed together up to `splitSize`.
    public static func tasks(_ inputs: [SizedInput], splitSize: Int64) -> [[InputSplit]] {
        let limit = max(splitSize, 1)
        var tasks: [[InputSplit]] = []
        var group: [InputSplit] = []
        var groupSize: Int64 = 0
        func close() {
            if !group.isEmpty { tasks.append(group) }
            group = []
            groupSize = 0
        }
        for input in inputs where input.size > 0 {
            if case .file(let path, 0, _) = input.split, input.size > limit {
                close()
                let pieces = (input.size + limit - 1) / limit
                let step = (input.size + pieces - 1) / pieces
                var offset: Int64 = 0
                while offset < input.size {
                    let length = min(step, input.size - offset)
                    tasks.append([.file(path: path, offset: offset, length: length)])
                    offset += length
                }
                continue
            }
            if groupSize > 0 && groupSize + input.size > limit { close() }
            group.append(input.split)
            groupSize += input.size
            if groupSize >= limit { close() }
        }
        close()
        return tasks
    }
}

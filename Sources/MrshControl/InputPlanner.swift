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

    /// `tasks` for a CSV source: the same grouping, with every point where a file is cut moved forward to
    /// the first CSV record start at or after it, so that no record (whose quoted fields may hold line
    /// breaks) is cut, lost or read twice. A line start is not enough: inside a quoted field it is the middle
    /// of a record, and only the quotes before it tell, counted from the file's start (`CSVScan`: position
    /// p is a record start exactly when byte p - 1 is `\n` and bytes 0 ..< p hold an even number of `"`).
    /// So the coordinator reads each file it cuts once, up to its last cut point and the record end after it,
    /// counting quotes at memory speed; files that are not cut (small ones, grouped) are not read. A piece
    /// left empty (a record longer than a split) is dropped. Lines sources never come here.
    public static func csvTasks(
        _ inputs: [SizedInput], splitSize: Int64, cancel: CancellationFlag? = nil
    ) throws -> [[InputSplit]] {
        let planned = tasks(inputs, splitSize: splitSize)
        var cuts: [String: [Int64]] = [:]
        var sizes: [String: Int64] = [:]
        for input in inputs {
            if case .file(let path, 0, _) = input.split { sizes[path] = input.size }
        }
        for task in planned {
            for split in task {
                if case .file(let path, let offset, _) = split, offset > 0 { cuts[path, default: []].append(offset) }
            }
        }
        var moved: [String: [Int64: Int64]] = [:]
        for (path, offsets) in cuts {
            let targets = offsets.sorted()
            let size = sizes[path] ?? (targets.last ?? 0)
            let starts = try CSVScan.recordStarts(path: path, size: size, targets: targets, cancel: cancel)
            moved[path] = Dictionary(uniqueKeysWithValues: zip(targets, starts))
        }
        var result: [[InputSplit]] = []
        for task in planned {
            var splits: [InputSplit] = []
            for split in task {
                guard case .file(let path, let offset, let length) = split, let starts = moved[path] else {
                    splits.append(split)
                    continue
                }
                let begin = offset == 0 ? 0 : starts[offset] ?? offset
                let end = starts[offset + length] ?? offset + length
                if end > begin { splits.append(.file(path: path, offset: begin, length: end - begin)) }
            }
            if !splits.isEmpty { result.append(splits) }
        }
        return result
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

/// Who holds a blob: the in-process store, the coordinator's store as workers see it, or a worker.
///
/// On the wire (inside `BlobLocation`) a holder is its name, a single JSON string: "local", "coordinator",
/// or the worker's id (the coordinator never gives a worker one of the two reserved names).
public enum BlobHolder: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The store of the process that made the blob: the in-process engine's, and the label a worker's
    /// engine gives its blobs until `published(as:address:)` relabels them with the worker's id.
    case local
    /// The coordinator's own store (standard-input chunks, kept copies) as workers reach it: through the
    /// coordinator's shuffle server.
    case coordinator
    /// A worker, by the id the coordinator assigned it (`WorkerWelcome.workerID`).
    case worker(String)

    /// The names a worker cannot have.
    public static let reservedNames: Set<String> = ["local", "coordinator"]

    /// The holder called `name` (the inverse of `name`).
    public init(named name: String) {
        switch name {
        case "local": self = .local
        case "coordinator": self = .coordinator
        default: self = .worker(name)
        }
    }

    /// The holder's name: "local", "coordinator" or the worker's id.
    public var name: String {
        switch self {
        case .local: return "local"
        case .coordinator: return "coordinator"
        case .worker(let id): return id
        }
    }

    public var description: String { name }

    public init(from decoder: any Decoder) throws {
        self.init(named: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// The id of a blob on its holder: which run, job, task and attempt made it (or which chunk of standard
/// input it is). Every blob id is built here, and its path under the holder's store follows from it:
///
/// | kind | path |
/// |---|---|
/// | `mapOutput` | `<run>/j<job>/map-<task>-a<attempt>` |
/// | `reduceOutput` | `<run>/j<job>/part-<partition>-a<attempt>` |
/// | `keptMapOutput` | `<run>/j<job>/kept-map-<task>-a<attempt>` |
/// | `keptReduceOutput` | `<run>/j<job>/kept-part-<partition>-a<attempt>` |
/// | `standardInput` | `<run>/stdin/chunk-<chunk>` |
///
/// Every attempt writes under its own name, and ids of different kinds never share a path. On the wire an
/// id is its path, a single JSON string; decoding accepts exactly the paths of the table (a run is one
/// path component), so an id read from a peer never leaves its store.
public struct BlobID: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Attempt `attempt` of map task `task`: a shuffled job's partitioned output with its index, or a
        /// map-only job's lines.
        case mapOutput(job: Int, task: Int, attempt: Int)
        /// Attempt `attempt` of reduce task `partition`: its part.
        case reduceOutput(job: Int, partition: Int, attempt: Int)
        /// The coordinator's copy of a map-only job's map output (kept for the next job or the client).
        case keptMapOutput(job: Int, task: Int, attempt: Int)
        /// The coordinator's copy of a reduce part.
        case keptReduceOutput(job: Int, partition: Int, attempt: Int)
        /// Chunk `chunk` of the client's standard input, in the coordinator's store.
        case standardInput(chunk: Int)
    }

    /// The run that made the blob (`JobID.run`): the first component of the path, removed with the run.
    public let run: String
    public let kind: Kind

    private init(run: String, kind: Kind) {
        self.run = run
        self.kind = kind
    }

    public static func mapOutput(_ job: JobID, task: Int, attempt: Int) -> BlobID {
        BlobID(run: job.run, kind: .mapOutput(job: job.index, task: task, attempt: attempt))
    }

    public static func reduceOutput(_ job: JobID, partition: Int, attempt: Int) -> BlobID {
        BlobID(run: job.run, kind: .reduceOutput(job: job.index, partition: partition, attempt: attempt))
    }

    public static func keptMapOutput(_ job: JobID, task: Int, attempt: Int) -> BlobID {
        BlobID(run: job.run, kind: .keptMapOutput(job: job.index, task: task, attempt: attempt))
    }

    public static func keptReduceOutput(_ job: JobID, partition: Int, attempt: Int) -> BlobID {
        BlobID(run: job.run, kind: .keptReduceOutput(job: job.index, partition: partition, attempt: attempt))
    }

    public static func standardInput(run: String, chunk: Int) -> BlobID {
        BlobID(run: run, kind: .standardInput(chunk: chunk))
    }

    /// True for a chunk of the client's standard input.
    public var isStandardInput: Bool {
        if case .standardInput = kind { return true }
        return false
    }

    /// The blob's path relative to its holder's store.
    public var path: String {
        switch kind {
        case .mapOutput(let job, let task, let attempt): return "\(run)/j\(job)/map-\(task)-a\(attempt)"
        case .reduceOutput(let job, let partition, let attempt): return "\(run)/j\(job)/part-\(partition)-a\(attempt)"
        case .keptMapOutput(let job, let task, let attempt): return "\(run)/j\(job)/kept-map-\(task)-a\(attempt)"
        case .keptReduceOutput(let job, let partition, let attempt):
            return "\(run)/j\(job)/kept-part-\(partition)-a\(attempt)"
        case .standardInput(let chunk): return "\(run)/stdin/chunk-\(chunk)"
        }
    }

    public var description: String { path }

    /// True when `run` can name a run's directory in a store: one path component, not "." or "..".
    public static func isValidRun(_ run: String) -> Bool {
        !run.isEmpty && run != "." && run != ".." && !run.contains("/") && !run.contains("\0")
    }

    /// The id whose `path` is `path`; nil for any other string (the inverse of `path`, for decoding).
    public init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, BlobID.isValidRun(parts[0]) else { return nil }
        let run = parts[0]
        let kind: Kind
        if parts[1] == "stdin" {
            guard parts[2].hasPrefix("chunk-"), let chunk = Int(parts[2].dropFirst(6)) else { return nil }
            kind = .standardInput(chunk: chunk)
        } else {
            guard parts[1].hasPrefix("j"), let job = Int(parts[1].dropFirst()) else { return nil }
            let name = parts[2]
            /// "<prefix><n>-a<m>" as (n, m).
            func numbers(after prefix: String) -> (Int, Int)? {
                guard name.hasPrefix(prefix) else { return nil }
                let fields = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
                guard fields.count == 2, fields[1].hasPrefix("a"), let first = Int(fields[0]),
                    let second = Int(fields[1].dropFirst())
                else { return nil }
                return (first, second)
            }
            if let (task, attempt) = numbers(after: "kept-map-") {
                kind = .keptMapOutput(job: job, task: task, attempt: attempt)
            } else if let (partition, attempt) = numbers(after: "kept-part-") {
                kind = .keptReduceOutput(job: job, partition: partition, attempt: attempt)
            } else if let (task, attempt) = numbers(after: "map-") {
                kind = .mapOutput(job: job, task: task, attempt: attempt)
            } else if let (partition, attempt) = numbers(after: "part-") {
                kind = .reduceOutput(job: job, partition: partition, attempt: attempt)
            } else {
                return nil
            }
        }
        self.init(run: run, kind: kind)
        // Only the canonical spelling ("j1", not "j01" or "j+1").
        guard self.path == path else { return nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let path = try container.decode(String.self)
        guard let id = BlobID(path: path) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a blob id: '\(path)'")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(path)
    }
}

extension BlobLocation {
    /// This location as `holder` at `address` publishes it, when it names a blob of the publishing process's
    /// own store (holder `.local`, or no address); any other location is returned unchanged. The one place
    /// a holder is relabelled: a worker publishes its results under its id, and the coordinator its own
    /// blobs as `.coordinator` for the workers.
    public func published(as holder: BlobHolder, address: String) -> BlobLocation {
        guard self.holder == .local || self.address.isEmpty else { return self }
        var renamed = self
        renamed.holder = holder
        renamed.address = address
        return renamed
    }
}

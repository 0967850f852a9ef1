import Foundation
import Glibc
import MrshControl
import MrshDataPath
import MrshWire
import Synchronization

/// The coordinator's journal (`mrsh coordinator --state-dir DIR`): the file `DIR/journal`, a sequence of
/// records, each framed as
///
/// ```
/// +----------------+------------------+------------------------------+
/// | length: UInt32 | CRC32C: UInt32   | payload: one JournalRecord   |
/// | big-endian     | of the payload   | as JSON, `length` bytes      |
/// +----------------+------------------+------------------------------+
/// ```
///
/// Each `append` writes one record and fsyncs the file before it returns. Jobs run one at a time, so the
/// journal holds the records of one run: `reset()` empties it when a run is admitted and when it ends.
/// `replay` reads the records back up to the last good one: a record cut short (the process died while
/// writing it) or whose checksum or JSON does not hold is the end, and what follows it is ignored (and cut
/// off, so that new records follow the good ones).
public final class CoordinatorJournal: Sendable {
    public let path: String
    private let descriptor: Mutex<Int32>

    /// The largest record accepted (a plan of hundreds of thousands of tasks fits): a length above it is a
    /// corrupt header, not a record.
    public static let maxRecord = 256 << 20

    /// What `replay` found.
    public struct Replay: Sendable {
        public var records: [JournalRecord]
        /// Bytes of good records.
        public var goodBytes: Int
        /// Bytes after the last good record (a torn or corrupt tail), ignored.
        public var ignoredBytes: Int
        /// Why the tail was ignored, nil when there was none.
        public var problem: String?
    }

    /// Opens (creating) `directory/journal` and replays it; a bad tail is cut off.
    public static func open(directory: String) throws -> (CoordinatorJournal, Replay) {
        try FileIO.makeDirectories(directory)
        let path = directory + "/journal"
        let fd = try sys("open", path) { Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        let bytes: [UInt8]
        do {
            // One coordinator per state directory: a second one would interleave its records.
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                throw EngineError.failed("'\(path)' is in use by another coordinator")
            }
            bytes = try readAll(fd, path: path)
        } catch {
            Glibc.close(fd)
            throw error
        }
        let replay = Self.decode(bytes)
        if replay.ignoredBytes > 0 {
            _ = ftruncate(fd, off_t(replay.goodBytes))
            _ = fsync(fd)
        }
        _ = lseek(fd, off_t(replay.goodBytes), SEEK_SET)
        // The new file's directory entry must survive too.
        let dir = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            Glibc.close(dir)
        }
        return (CoordinatorJournal(path: path, descriptor: fd), replay)
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    deinit {
        descriptor.withLock { _ = Glibc.close($0) }
    }

    /// Appends one record and fsyncs it.
    public func append(_ record: JournalRecord) throws {
        let framed = try Self.frame(record)
        try descriptor.withLock { fd in
            try framed.withUnsafeBytes { try FileIO.writeAll(fd, $0, path: path) }
            try sys("fsync", path) { fsync(fd) }
        }
    }

    /// Empties the journal (durably).
    public func reset() throws {
        try descriptor.withLock { fd in
            try sys("ftruncate", path) { ftruncate(fd, 0) }
            _ = lseek(fd, 0, SEEK_SET)
            try sys("fsync", path) { fsync(fd) }
        }
    }

    /// One record as it is written: length, checksum, JSON.
    public static func frame(_ record: JournalRecord) throws -> [UInt8] {
        let payload = [UInt8](try JSONEncoder().encode(record))
        guard payload.count <= maxRecord else {
            throw EngineError.failed("a journal record of \(payload.count) bytes is over the limit of \(maxRecord)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + payload.count)
        appendBigEndian(UInt32(payload.count), to: &bytes)
        appendBigEndian(CRC32C.checksum(payload), to: &bytes)
        bytes += payload
        return bytes
    }

    /// The good records of a journal's bytes, and what follows them.
    public static func decode(_ bytes: [UInt8]) -> Replay {
        var records: [JournalRecord] = []
        var offset = 0
        var problem: String?
        let decoder = JSONDecoder()
        while offset < bytes.count {
            guard bytes.count - offset >= 8 else {
                problem = "a record header cut short at offset \(offset)"
                break
            }
            let length = Int(readBigEndian(bytes, at: offset))
            let checksum = readBigEndian(bytes, at: offset + 4)
            guard length <= maxRecord else {
                problem = "a record length of \(length) bytes at offset \(offset)"
                break
            }
            guard bytes.count - offset - 8 >= length else {
                problem = "a record cut short at offset \(offset) (\(bytes.count - offset - 8) of \(length) bytes)"
                break
            }
            let payload = bytes[(offset + 8)..<(offset + 8 + length)]
            guard payload.withUnsafeBytes({ CRC32C.checksum($0) }) == checksum else {
                problem = "a record whose checksum does not match at offset \(offset)"
                break
            }
            guard let record = try? decoder.decode(JournalRecord.self, from: Data(payload)) else {
                problem = "a record that does not decode at offset \(offset)"
                break
            }
            records.append(record)
            offset += 8 + length
        }
        return Replay(records: records, goodBytes: offset, ignoredBytes: bytes.count - offset, problem: problem)
    }

    private static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                try sys("read", path) { read(fd, raw.baseAddress, raw.count) }
            }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }
}

/// One record of the coordinator's journal.
public enum JournalRecord: Codable, Sendable, Equatable {
    /// A run was admitted (it holds the queue): what the client submitted, and where its standard input
    /// was spooled (in the state directory).
    case admitted(AdmittedRun)
    /// A restarted coordinator took the run up again (the count of these numbers the attempts).
    case resumed(run: String)
    /// What the engine journals while the run goes on.
    case event(run: String, RunJournalEvent)
}

/// A run as it was admitted.
public struct AdmittedRun: Codable, Sendable, Equatable {
    public var run: String
    public var submission: JobSubmission
    public var standardInput: String?
    public init(run: String, submission: JobSubmission, standardInput: String?) {
        self.run = run
        self.submission = submission
        self.standardInput = standardInput
    }
}

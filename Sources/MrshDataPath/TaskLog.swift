import MrshPlan
import Synchronization

/// The log lines of one task attempt where it runs (a worker process, or a thread of the in-process engine):
/// what the attempt did and met (its input, spills, a `stream` command's standard error, fetch retries),
/// shipped to the coordinator with the attempt's result or failure and shown on the attempt's status page.
///
/// Bounded, so a chatty command cannot make a result large: each line is cut at `maxLineBytes`, the first
/// `headLines` lines are kept, and after them the last `tailLines` (a line says how many were dropped).
/// Lines start with the seconds since the attempt started. A line costs a lock: never per record.
///
/// The attempt's code finds it as `TaskLog.current` (a task-local value, set by whoever runs the attempt,
/// inherited by the child tasks and `Task {}`s it starts; blocking code reads it before it leaves the task).
public final class TaskLog: Sendable {
    public static let headLines = 4
    public static let tailLines = 12
    public static let maxLineBytes = 240

    @TaskLocal public static var current: TaskLog?

    private struct State {
        var head: [String] = []
        var tail: [String] = []
        /// Index in `tail` of its oldest line once it is full (a ring).
        var next = 0
        var dropped = 0
    }
    private let state = Mutex(State())
    private let started = ContinuousClock.now

    public init() {}

    /// Adds lines already stamped (another process's log of the same attempt), under the same bounds.
    public func append(lines: [String]) {
        for line in lines { keep(Self.cut(line)) }
    }

    /// Adds one line (cut to `maxLineBytes`; line breaks inside it become spaces).
    public func add(_ text: String) {
        let elapsed = ContinuousClock.now - started
        let millis = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let stamp = "\(millis / 1000).\(String(1000 + millis % 1000).dropFirst()) s  "
        keep(Self.cut(stamp + text))
    }

    /// One line of at most `maxLineBytes` (whole characters, "..." where cut), line breaks as spaces.
    static func cut(_ text: String) -> String {
        var line = text.contains(where: \.isNewline) ? text.map { $0.isNewline ? " " : String($0) }.joined() : text
        if line.utf8.count > maxLineBytes {
            var cut = line.utf8.prefix(maxLineBytes - 3)
            // Whole UTF-8 characters only: drop continuation bytes, then the lead byte they belonged to.
            while let last = cut.last, last & 0xC0 == 0x80 { cut = cut.dropLast() }
            if let last = cut.last, last >= 0xC0 { cut = cut.dropLast() }
            line = String(decoding: cut, as: UTF8.self) + "..."
        }
        return line
    }

    private func keep(_ line: String) {
        state.withLock { s in
            if s.head.count < Self.headLines {
                s.head.append(line)
            } else if s.tail.count < Self.tailLines {
                s.tail.append(line)
            } else {
                s.tail[s.next] = line
                s.next = (s.next + 1) % Self.tailLines
                s.dropped += 1
            }
        }
    }

    /// The kept lines in order, with a line naming how many were dropped between head and tail.
    public var lines: [String] {
        state.withLock { s in
            var lines = s.head
            if s.dropped > 0 { lines.append("... \(s.dropped) lines not kept ...") }
            lines += s.tail[s.next...] + s.tail[..<s.next]
            return lines
        }
    }
}

extension TaskLog {
    /// "3 splits, 12.5 MiB" / "standard input chunk" and the like, for an attempt's first line.
    static func describe(_ splits: [InputSplit]) -> String {
        var bytes: Int64 = 0
        var known = true
        for split in splits {
            if case .file(_, _, let length) = split { bytes += length } else { known = false }
        }
        let count = "\(splits.count) split\(splits.count == 1 ? "" : "s")"
        return known ? count + ", " + Join.bytesText(bytes) : count
    }

    /// "read 1,000 records (12 KiB), wrote 120 map output entries (2 KiB), spilled 1 MiB to sorted runs".
    static func describe(_ counters: Counters, output: String) -> String {
        var text = "read \(counters.recordsIn) records (\(Join.bytesText(counters.bytesIn))), wrote \(counters.recordsOut) "
            + "\(output) (\(Join.bytesText(counters.bytesOut)))"
        if counters.spilledBytes > 0 { text += ", spilled \(Join.bytesText(counters.spilledBytes)) to sorted runs on disk" }
        if counters.skippedRecords > 0 { text += ", skipped \(counters.skippedRecords) bad records" }
        return text
    }
}

import MrshPlan

/// `join` with the shuffle strategy (see `Join`): entries (a = KEY, b = the rest after KEY's TAB), hash of
/// KEY into the partitions, ordered by KEY, stable, so a key's right records (the job's first sources) come
/// before its left ones.
///
/// The reduce buffers a key's right rests (`JoinRightRecords`: bytes in one arena up to half the task's
/// memory budget, then in a temporary file, read back once per left record), then emits each left record
/// followed by each rest (inner and left join), or, in a left join, a left record without right records
/// followed by `rightFieldCount` TABs. Memory is bounded however many records a key has on either side.
/// Keys salted by the coordinator (`JoinSalt`) need nothing here: a salted key is an ordinary key.
package struct JoinShuffle: ShuffleKind {
    package let join: Join

    package init(join: Join) { self.join = join }

    package var entries: EntryRule { .keyValuePairs(dedup: false) }
    package var combine: ShuffleLayout.Combine { .none }
    package var order: EntryOrder { .bytesOfA }
    package var partitionKey: PartitionKeyRule { .key }
    package var partitioning: Partitioning { .hash }
    package var streamMerge: OutputStreamer.Merge { .concatenate }
    package var outputOrder: SortOrder? { nil }

    package func reduce(_ merger: EntryMerger, into part: PartReducer) throws {
        let rightSources = join.rightSources
        let keepsUnmatched = join.kind == .left
        let padding = [UInt8](repeating: 0x09, count: max(0, join.rightFieldCount))
        let rights = JoinRightRecords(budget: max(1 << 12, part.memoryBudget / 2), temporaryPath: part.temporaryPath)
        defer { rights.removeAll() }
        while let top = merger.top {
            part.startGroup(top.a)
            rights.removeAll()
            while let entry = merger.top, merger.topSide < rightSources, part.isInGroup(entry.a) {
                try rights.append(entry.b)
                try part.advance(merger)
            }
            while let entry = merger.top, part.isInGroup(entry.a) {
                if merger.topSide < rightSources {
                    // Ties keep source order and the right sources come first: this cannot happen.
                    throw EngineError.failed("join: a right record of a key came after its left records")
                }
                let left = entry.b
                if rights.count > 0 {
                    try rights.forEach { rest in
                        part.line.removeAll(keepingCapacity: true)
                        part.line.append(contentsOf: left)
                        part.line.append(contentsOf: rest)
                        try part.emitLine()
                    }
                } else if keepsUnmatched {
                    part.line.removeAll(keepingCapacity: true)
                    part.line.append(contentsOf: left)
                    part.line.append(contentsOf: padding)
                    try part.emitLine()
                }
                try part.advance(merger)
            }
        }
    }

    package var combinerDescription: String? { nil }
    package func shuffleDescription(partitions: String) -> String {
        "hash of join key into \(partitions), sorted by join key, right side first"
    }
    package var reduceDescription: String { join.kind == .left ? "left join" : "join" }
}

/// One key's right rests on the reduce side of a join: in an arena (bytes back to back, their ends in
/// one array) while they fit the budget; past it, all of them in a temporary file of entries (`BufferedWriter`
/// entries, read back with a bounded `EntryReader` as often as needed).
final class JoinRightRecords {
    private let budget: Int
    private let temporaryPath: (() throws -> String)?
    private var arena: UnsafeMutableRawPointer
    private var capacity: Int
    private var used = 0
    private var ends: [Int] = []
    private var spill: Spill?
    /// The rests of the current key, buffered or spilled.
    private(set) var count = 0
    /// Whether the current key's rests are in a file.
    var isSpilled: Bool { spill != nil }
    /// The arena's size (at most the budget).
    var bufferedBytes: Int { capacity }

    /// A spill file being written, then read.
    private final class Spill {
        let path: String
        var writer: BufferedWriter
        var reader: EntryReader?
        init(path: String, bufferSize: Int) throws {
            self.path = path
            writer = try BufferedWriter(creating: path, bufferSize: bufferSize)
        }
    }

    /// Read and write buffers of a spill file.
    private var ioBufferSize: Int { max(1 << 12, min(1 << 16, budget / 4)) }

    init(budget: Int, temporaryPath: (() throws -> String)?) {
        self.budget = budget
        self.temporaryPath = temporaryPath
        capacity = min(budget, 1 << 16)
        arena = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        arena.deallocate()
        if let spill { FileIO.unlinkQuietly(spill.path) }
    }

    /// Forgets every rest (and removes the spill file): the next key starts.
    func removeAll() {
        used = 0
        ends.removeAll(keepingCapacity: true)
        count = 0
        if let spill {
            try? spill.writer.close()
            FileIO.unlinkQuietly(spill.path)
            self.spill = nil
        }
    }

    func append(_ rest: UnsafeRawBufferPointer) throws {
        count += 1
        if let spill {
            try spill.writer.writeEntry(Bytes.empty, rest)
            return
        }
        let needed = used + rest.count
        if needed + 8 * (ends.count + 1) > budget {
            try startSpill()
            // `startSpill` set `spill`.
            try spill.unsafelyUnwrapped.writer.writeEntry(Bytes.empty, rest)
            return
        }
        if needed > capacity {
            var grown = capacity * 2
            while grown < needed { grown *= 2 }
            grown = min(grown, budget)  // needed <= budget here
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            bigger.copyMemory(from: arena, byteCount: used)
            arena.deallocate()
            arena = bigger
            capacity = grown
        }
        if let source = rest.baseAddress, rest.count > 0 { (arena + used).copyMemory(from: source, byteCount: rest.count) }
        used = needed
        ends.append(used)
    }

    /// Moves the buffered rests to a new spill file.
    private func startSpill() throws {
        guard let temporaryPath else {
            throw EngineError.failed("join: a key's right records exceed the memory budget and no scratch space was given")
        }
        let spill = try Spill(path: try temporaryPath(), bufferSize: ioBufferSize)
        self.spill = spill
        var start = 0
        for end in ends {
            try spill.writer.writeEntry(Bytes.empty, UnsafeRawBufferPointer(start: arena + start, count: end - start))
            start = end
        }
        used = 0
        ends.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with every rest, in the order they came.
    func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let spill else {
            var start = 0
            for end in ends {
                try body(UnsafeRawBufferPointer(start: arena + start, count: end - start))
                start = end
            }
            return
        }
        let reader: EntryReader
        if let open = spill.reader {
            reader = open
            reader.rewind()
        } else {
            try spill.writer.flush()
            reader = try EntryReader(path: spill.path, range: 0..<spill.writer.bytesWritten, bufferSize: ioBufferSize)
            spill.reader = reader
        }
        while try reader.next() { try body(reader.b) }
    }
}

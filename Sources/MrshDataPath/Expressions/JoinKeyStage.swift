#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MrshPlan

/// The join key of records: the `JoinKeyEncoding` of the text of a key expression (what `select` prints:
/// numbers as `NumericValue.format`, booleans `true`/`false`, a missing field empty). Used by
/// `JoinKeyStage`, and by a broadcast join to build and probe its table.
final class JoinKeyReader {
    private let program: ExpressionProgram
    private let evaluator: ExpressionEvaluator
    private let log: BadRecordLog
    private let out = ScratchBuffer()

    init(_ expression: FieldExpression, log: BadRecordLog) throws {
        program = try ExpressionProgram(expression, context: "join")
        evaluator = ExpressionEvaluator([program])
        self.log = log
    }

    /// The key of `record` (empty when the text is empty), valid until the next call; nil when the record is
    /// bad (reported to the log: the record produces nothing).
    @inline(__always)
    func key(_ record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        evaluator.begin(record)
        guard let value = evaluator.evaluate(program) else {
            log.report(evaluator, program)
            return nil
        }
        out.removeAll()
        JoinKeyEncoding.append(evaluator.text(value), to: out)
        return out.bytes
    }

    /// Appends a right record's rest (see `JoinSide.right`): every field but `removingField` (1-based; nil:
    /// none removed), each preceded by a TAB. Fields split at TAB; an empty record has one empty field; a
    /// field number past the last field removes nothing.
    static func appendRest(_ record: UnsafeRawBufferPointer, removingField: Int?, to out: ScratchBuffer) {
        guard let k = removingField else {
            out.append(0x09)
            out.append(record)
            return
        }
        guard let base = record.baseAddress else {
            // An empty record: its one empty field is removed (k == 1) or kept.
            if k > 1 { out.append(0x09) }
            return
        }
        let n = record.count
        // Find field k's bounds.
        var start = 0
        var field = 1
        while field < k {
            guard let tab = memchr(base + start, 0x09, n - start) else {
                // Fewer than k fields: nothing is removed.
                out.append(0x09)
                out.append(record)
                return
            }
            start = UnsafeRawPointer(tab) - base + 1
            field += 1
        }
        let end = memchr(base + start, 0x09, n - start).map { UnsafeRawPointer($0) - base } ?? n
        if k > 1 {
            // The fields before k, without the TAB that ends them.
            out.append(0x09)
            out.append(UnsafeRawBufferPointer(rebasing: record[0..<(start - 1)]))
        }
        // The fields after k, each with its TAB.
        out.append(UnsafeRawBufferPointer(rebasing: record[end..<n]))
    }
}

/// `.prependJoinKey` (see `Join`, `JoinSide`): a left record becomes `KEY TAB record`, a right record
/// `KEY TAB rest`. A right record with an empty key is dropped; a left one gets an unmatchable key
/// (`JoinKeyEncoding.appendUnmatchable`), so a left join emits it unmatched.
///
/// With a salt, a key among its hot keys (one table lookup, only then) is salted: on the side where the
/// key is hot, with one salt chosen by a hash of the record; on the other side the record is emitted once
/// for every salt.
final class JoinKeyStage: RecordStage {
    private let reader: JoinKeyReader
    private let isRight: Bool
    /// The right side's field to remove (nil: none).
    private let removingField: Int?
    private let hot: HotJoinKeyTable?
    private let out = ScratchBuffer()
    private let salted = ScratchBuffer()

    init(_ expression: FieldExpression, side: JoinSide, salt: JoinSalt?, log: BadRecordLog) throws {
        reader = try JoinKeyReader(expression, log: log)
        switch side {
        case .left:
            isRight = false
            removingField = nil
        case .right(let field):
            if let field, field < 1 { throw OperatorError("join: field number \(field) is not positive") }
            isRight = true
            removingField = field
        }
        if let salt, salt.hotKeys.contains(where: { $0.fanout > 1 }) {
            hot = HotJoinKeyTable(salt.hotKeys.filter { $0.fanout > 1 })
        } else {
            hot = nil
        }
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        guard let key = reader.key(record) else { return }
        out.removeAll()
        if key.isEmpty {
            if isRight { return }
            JoinKeyEncoding.appendUnmatchable(record: record, to: out)
            out.append(0x09)
            out.append(record)
            try next(out.bytes)
            return
        }
        out.append(key)
        let keyCount = key.count
        out.append(0x09)
        if isRight {
            JoinKeyReader.appendRest(record, removingField: removingField, to: out)
        } else {
            out.append(record)
        }
        if let hot, let index = hot.find(UnsafeRawBufferPointer(rebasing: out.bytes[0..<keyCount])) {
            let fanout = hot.fanout(index)
            if hot.hotOnRight(index) == isRight {
                try emitSalted(Int(FNV1a.hash(record) % UInt64(fanout)), keyCount: keyCount, next: next)
            } else {
                for salt in 0..<fanout { try emitSalted(salt, keyCount: keyCount, next: next) }
            }
            return
        }
        try next(out.bytes)
    }

    /// Emits `out` (`KEY TAB payload`) as `KEY 0x01 salt TAB payload`.
    @inline(__always)
    private func emitSalted(
        _ salt: Int, keyCount: Int, next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let bytes = out.bytes
        salted.removeAll()
        salted.append(UnsafeRawBufferPointer(rebasing: bytes[0..<keyCount]))
        JoinKeyEncoding.appendSalt(salt, to: salted)
        salted.append(UnsafeRawBufferPointer(rebasing: bytes[keyCount...]))
        try next(salted.bytes)
    }
}

/// The hot keys of a `JoinSalt` in a small open-addressing table (keys' bytes in one buffer; a fixed hash),
/// looked up without allocating.
final class HotJoinKeyTable {
    private let bytes: UnsafeMutableRawBufferPointer
    private let starts: [Int]
    private let ends: [Int]
    private let fanouts: [Int]
    private let onRight: [Bool]
    /// Index into the keys + 1 (0: empty slot).
    private let slots: UnsafeMutableBufferPointer<Int32>
    private let mask: Int

    init(_ hotKeys: [HotJoinKey]) {
        let total = hotKeys.reduce(0) { $0 + $1.key.count }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, total), alignment: 8)
        self.bytes = bytes
        var starts: [Int] = []
        var ends: [Int] = []
        var position = 0
        for hot in hotKeys {
            starts.append(position)
            hot.key.withUnsafeBytes { source in
                if let s = source.baseAddress, let d = bytes.baseAddress { (d + position).copyMemory(from: s, byteCount: source.count) }
            }
            position += hot.key.count
            ends.append(position)
        }
        self.starts = starts
        self.ends = ends
        fanouts = hotKeys.map(\.fanout)
        onRight = hotKeys.map(\.hotOnRight)
        var capacity = 8
        while capacity < 2 * hotKeys.count { capacity *= 2 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        for index in hotKeys.indices where find(key(index)) == nil {
            var slot = Int(truncatingIfNeeded: KeyHash.hash(key(index))) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    deinit {
        bytes.deallocate()
        slots.deallocate()
    }

    private func key(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[starts[index]..<ends[index]])
    }

    /// The index of `key` among the hot keys, if it is one.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> Int? {
        var slot = Int(truncatingIfNeeded: KeyHash.hash(key)) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if Bytes.equal(self.key(entry - 1), key) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    func fanout(_ index: Int) -> Int { fanouts[index] }
    func hotOnRight(_ index: Int) -> Bool { onRight[index] }
}

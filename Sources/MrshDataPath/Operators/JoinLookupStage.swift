import MrshPlan

/// `.joinLookup` (see `Join`, `JoinLookup`): a broadcast join's probe of the right side the map task loaded
/// (a `JoinTable`). A left record's key is its key expression's text in `JoinKeyEncoding`, as
/// `JoinKeyStage` makes it on the shuffle side; each right record of that key gives `record + rest`, in the
/// right side's order. A record without a match (an empty key never matches) is dropped by an inner join
/// and emitted followed by `rightFieldCount` TABs by a left join. A record whose key expression fails is a
/// bad record (reported to the pipeline's log, as the other expression stages do).
final class JoinLookupStage: RecordStage {
    private let reader: JoinKeyReader
    private let table: JoinTable
    private let keepsUnmatched: Bool
    private let padding: Int
    private let out = ScratchBuffer()

    init(_ lookup: JoinLookup, table: JoinTable, log: BadRecordLog) throws {
        reader = try JoinKeyReader(lookup.key, log: log)
        self.table = table
        keepsUnmatched = lookup.kind == .left
        padding = max(0, lookup.rightFieldCount)
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        guard let key = reader.key(record) else { return }
        var value: Int32 = key.isEmpty ? -1 : table.first(key)
        if value < 0 {
            guard keepsUnmatched else { return }
            out.removeAll()
            out.append(record)
            let p = out.reserve(padding)
            p.initializeMemory(as: UInt8.self, repeating: 0x09, count: padding)
            out.commit(padding)
            try next(out.bytes)
            return
        }
        while value >= 0 {
            out.removeAll()
            out.append(record)
            out.append(table.rest(value))
            try next(out.bytes)
            value = table.next(value)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMrshShims
import MrshPlan

/// The in-mapper combiner: an open-addressing hash table (linear probing) whose keys are entry bytes
/// `(a, b)` copied once into an arena, each with its partition and its running partials (none for `count`,
/// whose counter is in the slot; one `PartialAggregate` for `sum` and the others; a `PartialTuple`'s for
/// `reduce AGG, ... by`), in an array beside the entries.
///
/// A slot (32 bytes, two per cache line) holds the key's tag (high hash bits), length, arena offset, its
/// first 8 bytes (`head`) and the running count of `count`: a lookup of a key of at most 8 bytes touches
/// only its slot (one cache line); longer keys compare their remaining bytes in the arena. The arena keeps
/// an 8-byte counter before every key, where the slots' counts are stored before a rehash or a write.
///
/// Used for shuffles whose combine step folds or deduplicates (`count`, `sum`, `min`, `max`, `avg`,
/// `distinct` aggregates and the `distinct` shuffle): a record whose key is already in the table costs a
/// hash, a probe and a memcmp; nothing is allocated per record. The table never holds more than its
/// budget (arena + entry array + slots): when an insert would need more, `findOrInsert` returns nil and
/// the caller flushes the table as a sorted run (`write(to:)`, which sorts only the distinct keys) and
/// clears it.
final class CombineTable {
    struct Entry {
        var offset: Int
        var aCount: Int32
        var bCount: Int32
        var partition: Int32
        /// The key's table hash (for rehashing without reading the key).
        var hash: UInt64
    }

    /// Whether b is part of the key (the `distinct` aggregate's (key, value) pairs).
    let includesB: Bool
    private let partitioner: RecordPartitioner
    private let budget: Int
    private var arena: UnsafeMutableRawPointer
    private var arenaCapacity: Int
    private var arenaUsed = 0
    private var entries: UnsafeMutablePointer<Entry>
    private var entryCapacity: Int
    private(set) var count = 0
    /// `partialsPerEntry` partials per entry, at `index * partialsPerEntry`.
    private var partials: UnsafeMutablePointer<PartialAggregate>
    let partialsPerEntry: Int
    /// The tuple the partials make (`reduce AGG, ... by`), written as a `.grouped` tag-0 entry.
    private let tuple: PartialTuple?
    private var slots: UnsafeMutablePointer<Slot>
    private var slotMask: Int

    /// One slot of the open-addressing table; `entry` 0 means empty.
    struct Slot {
        /// The hash's high 32 bits.
        var tag: UInt32
        var aCount: UInt32
        /// Entry index + 1.
        var entry: UInt32
        /// Arena offset of the key bytes (its 8-byte counter is just before).
        var offset: UInt32
        /// `CombineTable.head` of the key (a): equal heads and lengths <= 8 mean equal keys.
        var head: UInt64
        /// The running count of the `count` aggregate.
        var count: Int64
        static let empty = Slot(tag: 0, aCount: 0, entry: 0, offset: 0, head: 0, count: 0)
    }

    /// What `findOrInsert` found: the entry, the arena offset of its key and its slot (valid until the
    /// next insert, which may rehash).
    struct Handle {
        var index: Int
        var offset: Int
        var slot: Int
    }
    #if DEBUG
    /// Slots examined and key comparisons in the arena (keys longer than 8 bytes, or with b) made by
    /// `findOrInsert` (for `HotPathBudgetTests`).
    private(set) var probes = 0
    private(set) var keyComparisons = 0
    #endif

    /// `partialsPerEntry`: 1 for a folding aggregate other than `count`, `tuple.count` with a tuple, else 0.
    init(includesB: Bool, partitioner: RecordPartitioner, budget: Int, partialsPerEntry: Int = 0, tuple: PartialTuple? = nil) {
        self.includesB = includesB
        self.partitioner = partitioner
        self.budget = budget
        self.partialsPerEntry = partialsPerEntry
        self.tuple = tuple
        // Start small enough that even a tiny budget is respected (it then spills early).
        arenaCapacity = min(1 << 16, max(256, budget / 4))
        arena = .allocate(byteCount: arenaCapacity, alignment: 16)
        entryCapacity = min(1 << 10, max(4, budget / 4 / MemoryLayout<Entry>.stride))
        entries = .allocate(capacity: entryCapacity)
        partials = .allocate(capacity: max(1, entryCapacity * partialsPerEntry))
        var slotCount = 8
        while slotCount < 2 * entryCapacity { slotCount *= 2 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: .empty, count: slotCount)
        slotMask = slotCount - 1
    }

    deinit {
        arena.deallocate()
        entries.deallocate()
        partials.deallocate()
        slots.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// Bytes held by the table's three allocations.
    var footprint: Int {
        arenaCapacity + entryCapacity * entryStride + (slotMask + 1) * MemoryLayout<Slot>.stride
    }

    /// Bytes per entry: the entry and its partials.
    private var entryStride: Int { MemoryLayout<Entry>.stride + partialsPerEntry * MemoryLayout<PartialAggregate>.stride }

    /// The entry for `(a, b)` (b ignored unless `includesB`), inserted with an empty partial and a zero
    /// count when new; nil when inserting would pass the budget (flush, clear, retry).
    @inline(__always)
    func findOrInsert(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Handle? {
        var h = KeyHash.hash(a)
        if includesB { h = KeyHash.hash(b, seed: h) }
        return findOrInsert(a, b, hash: h)
    }

    /// `findOrInsert` with the key's hash already computed (`KeyHash.hash(a)`, b chained when `includesB`).
    @inline(__always)
    func findOrInsert(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, hash h: UInt64) -> Handle? {
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        let aCount = UInt32(truncatingIfNeeded: a.count)
        let head = CombineTable.head(a)
        var i = Int(truncatingIfNeeded: h) & slotMask
        while true {
            let s = slots[i]
            #if DEBUG
            probes += 1
            #endif
            if s.entry == 0 { break }
            if s.tag == tag && s.aCount == aCount && s.head == head {
                let index = Int(s.entry) - 1
                if includesB {
                    #if DEBUG
                    keyComparisons += 1
                    #endif
                    if matches(index, a, b) { return Handle(index: index, offset: Int(s.offset), slot: i) }
                } else if aCount <= 8 {
                    return Handle(index: index, offset: Int(s.offset), slot: i)
                } else {
                    #if DEBUG
                    keyComparisons += 1
                    #endif
                    // aCount > 8, so `a` has a base address and 8 bytes to skip.
                    let tail = UnsafeRawBufferPointer(start: a.baseAddress.unsafelyUnwrapped + 8, count: a.count - 8)
                    if CombineTable.equal(arena + Int(s.offset) + 8, tail) {
                        return Handle(index: index, offset: Int(s.offset), slot: i)
                    }
                }
            }
            i = (i + 1) & slotMask
        }
        return insert(a, b, hash: h, slot: i, head: head)
    }

    /// The key's first 8 bytes as a number; shorter keys pack their bytes with overlapping loads, which
    /// together with the length determine the key.
    @inline(__always)
    static func head(_ a: UnsafeRawBufferPointer) -> UInt64 {
        let n = a.count
        guard let p = a.baseAddress, n > 0 else { return 0 }
        if n >= 8 { return p.loadUnaligned(as: UInt64.self) }
        if n >= 4 {
            return UInt64(p.loadUnaligned(as: UInt32.self))
                | UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32
        }
        return UInt64(p.load(as: UInt8.self)) | UInt64(p.load(fromByteOffset: n >> 1, as: UInt8.self)) << 8
            | UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self)) << 16
    }

    /// Prefetch hint for the slot `hash` starts probing at (batched lookups).
    @inline(__always)
    func prefetchSlot(_ hash: UInt64) {
        mrsh_prefetch(UnsafeRawPointer(slots + (Int(truncatingIfNeeded: hash) & slotMask)))
    }

    /// Prefetch hint for the key bytes of the first slot `hash` probes, when it is occupied.
    @inline(__always)
    func prefetchKey(_ hash: UInt64) {
        let s = slots[Int(truncatingIfNeeded: hash) & slotMask]
        if s.entry != 0 { mrsh_prefetch(UnsafeRawPointer(arena + Int(s.offset))) }
    }

    /// Folds `partial` into the entry (a new entry takes it as it is); `count` adds to the counter.
    @inline(__always)
    func fold(_ handle: Handle, _ aggregate: Aggregate, _ partial: PartialAggregate) {
        if aggregate == .count {
            add(handle, partial.count)
        } else if partials[handle.index].count == 0 {
            partials[handle.index] = partial
        } else {
            partials[handle.index].merge(aggregate, partial)
        }
    }

    /// Folds the tuple `terms` (`tuple.count` partials) into the entry's.
    @inline(__always)
    func foldTuple(_ handle: Handle, _ terms: UnsafePointer<PartialAggregate>) {
        // Only tables made with a tuple are handed tuples.
        tuple.unsafelyUnwrapped.merge(terms, into: partials + handle.index * partialsPerEntry)
    }

    /// Adds to the entry's counter (the `count` aggregate), which lives in its slot.
    @inline(__always)
    func add(_ handle: Handle, _ n: Int64) {
        slots[handle.slot].count &+= n
    }

    /// Stores every slot's count in the arena counter before its key (before a rehash or a write).
    private func storeCounts() {
        for i in 0...slotMask {
            let s = slots[i]
            if s.entry != 0 { (arena + Int(s.offset) - 8).storeBytes(of: s.count, as: Int64.self) }
        }
    }

    /// Byte equality of the key at `p` (as long as `a`) and `a`: overlapping word loads up to 16 bytes,
    /// memcmp beyond. Every load stays inside both buffers.
    @inline(__always)
    static func equal(_ p: UnsafeRawPointer, _ a: UnsafeRawBufferPointer) -> Bool {
        let n = a.count
        guard let q = a.baseAddress, n > 0 else { return true }
        if n >= 8 {
            if n > 16 { return memcmp(p, q, n) == 0 }
            return p.loadUnaligned(as: UInt64.self) == q.loadUnaligned(as: UInt64.self)
                && p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                    == q.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 {
            return p.loadUnaligned(as: UInt32.self) == q.loadUnaligned(as: UInt32.self)
                && p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
                    == q.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        // n is 1...3: bytes 0, n/2 and n-1 cover them all.
        return p.load(as: UInt8.self) == q.load(as: UInt8.self)
            && p.load(fromByteOffset: n >> 1, as: UInt8.self) == q.load(fromByteOffset: n >> 1, as: UInt8.self)
            && p.load(fromByteOffset: n - 1, as: UInt8.self) == q.load(fromByteOffset: n - 1, as: UInt8.self)
    }

    @inline(__always)
    private func matches(_ index: Int, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let e = entries[index]
        guard Int(e.aCount) == a.count, Int(e.bCount) == b.count else { return false }
        return CombineTable.equal(arena + e.offset, a) && CombineTable.equal(arena + e.offset + a.count, b)
    }

    @inline(never)
    private func insert(
        _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, hash: UInt64, slot: Int, head: UInt64
    ) -> Handle? {
        // Record: padding to 8, an 8-byte counter, a, then b when it is part of the key.
        let start = (arenaUsed + 7) & ~7
        let bytes = start - arenaUsed + 8 + a.count + (includesB ? b.count : 0)
        var slot = slot
        let needsArena = arenaUsed + bytes > arenaCapacity
        let needsEntries = count == entryCapacity
        let needsSlots = (count + 1) * 2 > slotMask + 1
        if needsArena || needsEntries || needsSlots {
            var newArena = arenaCapacity
            while arenaUsed + bytes > newArena { newArena *= 2 }
            let newEntries = needsEntries ? entryCapacity * 2 : entryCapacity
            let newSlots = needsSlots ? (slotMask + 1) * 2 : slotMask + 1
            let newFootprint = newArena + newEntries * entryStride + newSlots * MemoryLayout<Slot>.stride
            // Over budget (or past 32-bit offsets): the caller flushes. An empty table takes its first key.
            if (newFootprint > budget || newArena > Int(UInt32.max)) && count > 0 { return nil }
            if newArena != arenaCapacity { growArena(to: newArena) }
            if newEntries != entryCapacity { growEntries(to: newEntries) }
            if newSlots != slotMask + 1 {
                rehash(to: newSlots)
                slot = Int(truncatingIfNeeded: hash) & slotMask
                while slots[slot].entry != 0 { slot = (slot + 1) & slotMask }
            }
        }
        let offset = start + 8
        (arena + start).storeBytes(of: Int64(0), as: Int64.self)
        if a.count > 0, let pa = a.baseAddress { (arena + offset).copyMemory(from: pa, byteCount: a.count) }
        if includesB, b.count > 0, let pb = b.baseAddress {
            (arena + offset + a.count).copyMemory(from: pb, byteCount: b.count)
        }
        arenaUsed += bytes
        let partition = partitioner.partitionCount > 1 ? partitioner.partition(ofKey: a) : 0
        (entries + count).initialize(
            to: Entry(
                offset: offset, aCount: Int32(a.count), bCount: Int32(includesB ? b.count : 0),
                partition: Int32(partition), hash: hash))
        if partialsPerEntry > 0 {
            (partials + count * partialsPerEntry).initialize(repeating: PartialAggregate(), count: partialsPerEntry)
        }
        let index = count
        count += 1
        slots[slot] = Slot(
            tag: UInt32(truncatingIfNeeded: hash >> 32), aCount: UInt32(a.count), entry: UInt32(index + 1),
            offset: UInt32(offset), head: head, count: 0)
        return Handle(index: index, offset: offset, slot: slot)
    }

    private func growArena(to capacity: Int) {
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        if arenaUsed > 0 { bigger.copyMemory(from: arena, byteCount: arenaUsed) }
        arena.deallocate()
        arena = bigger
        arenaCapacity = capacity
    }

    private func growEntries(to capacity: Int) {
        let bigger = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
        bigger.moveInitialize(from: entries, count: count)
        entries.deallocate()
        entries = bigger
        if partialsPerEntry > 0 {
            let more = UnsafeMutablePointer<PartialAggregate>.allocate(capacity: capacity * partialsPerEntry)
            more.moveInitialize(from: partials, count: count * partialsPerEntry)
            partials.deallocate()
            partials = more
        }
        entryCapacity = capacity
    }

    private func rehash(to slotCount: Int) {
        storeCounts()
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: .empty, count: slotCount)
        slotMask = slotCount - 1
        for index in 0..<count {
            let e = entries[index]
            var slot = Int(truncatingIfNeeded: e.hash) & slotMask
            while slots[slot].entry != 0 { slot = (slot + 1) & slotMask }
            let key = UnsafeRawBufferPointer(start: arena + e.offset, count: Int(e.aCount))
            slots[slot] = Slot(
                tag: UInt32(truncatingIfNeeded: e.hash >> 32), aCount: UInt32(e.aCount), entry: UInt32(index + 1),
                offset: UInt32(e.offset), head: CombineTable.head(key),
                count: (arena + e.offset - 8).load(as: Int64.self))
        }
    }

    /// Writes the entries sorted by (partition, a, b) through `writer`; b is the encoded partial of
    /// `aggregate`, the tag 0 and the encoded tuple with a tuple, or the entry's own b when `aggregate` is nil.
    func write(to writer: RunWriter, aggregate: Aggregate?) throws {
        if aggregate == .count { storeCounts() }
        let order = sortedOrder()
        let scratchSize = max(64, 1 + (tuple?.size ?? 0))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
        defer { scratch.deallocate() }
        do {
            let outBase = scratch
            let n = order.count
            for i in 0..<n {
                // Entries come in key order, scattered in memory: fetch the entry 16 ahead, and the key
                // bytes of the one 8 ahead (its entry fetched 8 steps ago).
                if i + 16 < n { mrsh_prefetch(UnsafeRawPointer(entries + Int(order[i + 16]))) }
                if i + 8 < n { mrsh_prefetch(UnsafeRawPointer(arena + entries[Int(order[i + 8])].offset - 8)) }
                let e = entries[Int(order[i])]
                let a = UnsafeRawBufferPointer(start: arena + e.offset, count: Int(e.aCount))
                if let tuple {
                    outBase.storeBytes(of: 0, as: UInt8.self)
                    tuple.encode(partials + Int(order[i]) * partialsPerEntry, into: outBase + 1)
                    try writer.addDistinct(partition: Int(e.partition), a: a, b: UnsafeRawBufferPointer(start: outBase, count: 1 + tuple.size))
                } else if let aggregate {
                    var partial = partialsPerEntry > 0 ? partials[Int(order[i])] : PartialAggregate()
                    if aggregate == .count {
                        partial = PartialAggregate(count: (arena + e.offset - 8).load(as: Int64.self))
                    }
                    partial.encode(aggregate, into: outBase)
                    let size = PartialAggregate.encodedSize(aggregate)
                    try writer.addDistinct(partition: Int(e.partition), a: a, b: UnsafeRawBufferPointer(start: outBase, count: size))
                } else {
                    let b = UnsafeRawBufferPointer(start: arena + e.offset + Int(e.aCount), count: Int(e.bCount))
                    try writer.addDistinct(partition: Int(e.partition), a: a, b: b)
                }
            }
        }
    }

    /// Entry indices in (partition, a, b) order: sorted on (partition, the first 8 bytes of a as a
    /// big-endian number), memcmp only on ties of that prefix.
    private func sortedOrder() -> [Int32] {
        struct Key {
            var partition: Int32
            var index: Int32
            var prefix: UInt64
        }
        var keys: [Key] = []
        keys.reserveCapacity(count)
        for index in 0..<count {
            let e = entries[index]
            keys.append(Key(partition: e.partition, index: Int32(index), prefix: ShuffleBuffer.prefix(UnsafeRawBufferPointer(start: arena + e.offset, count: Int(e.aCount)))))
        }
        let arena = self.arena
        let entries = self.entries
        keys.sort { x, y in
            if x.partition != y.partition { return x.partition < y.partition }
            if x.prefix != y.prefix { return x.prefix < y.prefix }
            let ex = entries[Int(x.index)]
            let ey = entries[Int(y.index)]
            let c = Bytes.compare(
                UnsafeRawBufferPointer(start: arena + ex.offset, count: Int(ex.aCount)),
                UnsafeRawBufferPointer(start: arena + ey.offset, count: Int(ey.aCount)))
            if c != 0 { return c < 0 }
            return Bytes.compare(
                UnsafeRawBufferPointer(start: arena + ex.offset + Int(ex.aCount), count: Int(ex.bCount)),
                UnsafeRawBufferPointer(start: arena + ey.offset + Int(ey.aCount), count: Int(ey.bCount))) < 0
        }
        return keys.map { $0.index }
    }

    /// Empties the table, keeping its allocations.
    func removeAll() {
        count = 0
        arenaUsed = 0
        slots.update(repeating: .empty, count: slotMask + 1)
    }
}

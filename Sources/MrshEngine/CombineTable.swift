#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MrshPlan

/// The in-mapper combiner: an open-addressing hash table (linear probing) whose keys are entry bytes
/// `(a, b)` copied once into an arena, each with its partition and a running `PartialAggregate`.
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
        var partial: PartialAggregate
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
    /// 0: empty; else the hash's high 32 bits and (entry index + 1) in the low 32 bits.
    private var slots: UnsafeMutablePointer<UInt64>
    private var slotMask: Int
    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000
    #if DEBUG
    /// Slots examined and full key comparisons made by `findOrInsert` (for `HotPathBudgetTests`).
    private(set) var probes = 0
    private(set) var keyComparisons = 0
    #endif

    init(includesB: Bool, partitioner: RecordPartitioner, budget: Int) {
        self.includesB = includesB
        self.partitioner = partitioner
        self.budget = budget
        // Start small enough that even a tiny budget is respected (it then spills early).
        arenaCapacity = min(1 << 16, max(256, budget / 4))
        arena = .allocate(byteCount: arenaCapacity, alignment: 16)
        entryCapacity = min(1 << 10, max(4, budget / 4 / MemoryLayout<Entry>.stride))
        entries = .allocate(capacity: entryCapacity)
        var slotCount = 8
        while slotCount < 2 * entryCapacity { slotCount *= 2 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
    }

    deinit {
        arena.deallocate()
        entries.deallocate()
        slots.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// Bytes held by the table's three allocations.
    var footprint: Int {
        arenaCapacity + entryCapacity * MemoryLayout<Entry>.stride + (slotMask + 1) * MemoryLayout<UInt64>.stride
    }

    /// The index of the entry for `(a, b)` (b ignored unless `includesB`), inserted with an empty partial
    /// (count 0) when new; nil when inserting would pass the budget (flush, clear, retry).
    @inline(__always)
    func findOrInsert(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int? {
        var h = KeyHash.hash(a)
        if includesB { h = KeyHash.hash(b, seed: h) }
        let tag = h & CombineTable.tagMask
        var i = Int(truncatingIfNeeded: h) & slotMask
        while true {
            let s = slots[i]
            #if DEBUG
            probes += 1
            #endif
            if s == 0 { break }
            if s & CombineTable.tagMask == tag {
                #if DEBUG
                keyComparisons += 1
                #endif
                let index = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
                if matches(index, a, b) { return index }
            }
            i = (i + 1) & slotMask
        }
        return insert(a, b, hash: h, slot: i)
    }

    /// Folds `partial` into entry `index` (a new entry takes it as it is).
    @inline(__always)
    func fold(_ index: Int, _ aggregate: Aggregate, _ partial: PartialAggregate) {
        if entries[index].partial.count == 0 {
            entries[index].partial = partial
        } else {
            entries[index].partial.merge(aggregate, partial)
        }
    }

    /// Adds 1 to entry `index`'s count.
    @inline(__always)
    func increment(_ index: Int) {
        entries[index].partial.count &+= 1
    }

    @inline(__always)
    private func matches(_ index: Int, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let e = entries[index]
        guard Int(e.aCount) == a.count else { return false }
        if includesB && Int(e.bCount) != b.count { return false }
        if a.count > 0, let pa = a.baseAddress, memcmp(arena + e.offset, pa, a.count) != 0 { return false }
        if includesB, b.count > 0, let pb = b.baseAddress,
            memcmp(arena + e.offset + a.count, pb, b.count) != 0
        {
            return false
        }
        return true
    }

    @inline(never)
    private func insert(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, hash: UInt64, slot: Int) -> Int? {
        let bytes = a.count + (includesB ? b.count : 0)
        var slot = slot
        let needsArena = arenaUsed + bytes > arenaCapacity
        let needsEntries = count == entryCapacity
        let needsSlots = (count + 1) * 2 > slotMask + 1
        if needsArena || needsEntries || needsSlots {
            var newArena = arenaCapacity
            while arenaUsed + bytes > newArena { newArena *= 2 }
            let newEntries = needsEntries ? entryCapacity * 2 : entryCapacity
            let newSlots = needsSlots ? (slotMask + 1) * 2 : slotMask + 1
            let newFootprint = newArena + newEntries * MemoryLayout<Entry>.stride + newSlots * MemoryLayout<UInt64>.stride
            // Over budget: the caller flushes. An empty table always takes its first key.
            if newFootprint > budget && count > 0 { return nil }
            if newArena != arenaCapacity { growArena(to: newArena) }
            if newEntries != entryCapacity { growEntries(to: newEntries) }
            if newSlots != slotMask + 1 {
                rehash(to: newSlots)
                slot = Int(truncatingIfNeeded: hash) & slotMask
                while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            }
        }
        let offset = arenaUsed
        if a.count > 0, let pa = a.baseAddress { (arena + offset).copyMemory(from: pa, byteCount: a.count) }
        if includesB, b.count > 0, let pb = b.baseAddress {
            (arena + offset + a.count).copyMemory(from: pb, byteCount: b.count)
        }
        arenaUsed += bytes
        let partition = partitioner.partitionCount > 1 ? partitioner.partition(ofKey: a) : 0
        (entries + count).initialize(
            to: Entry(
                offset: offset, aCount: Int32(a.count), bCount: Int32(includesB ? b.count : 0),
                partition: Int32(partition), partial: PartialAggregate()))
        let index = count
        count += 1
        slots[slot] = (hash & CombineTable.tagMask) | UInt64(index + 1)
        return index
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
        entryCapacity = capacity
    }

    private func rehash(to slotCount: Int) {
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        for index in 0..<count {
            let e = entries[index]
            let a = UnsafeRawBufferPointer(start: arena + e.offset, count: Int(e.aCount))
            var h = KeyHash.hash(a)
            if includesB {
                h = KeyHash.hash(UnsafeRawBufferPointer(start: arena + e.offset + Int(e.aCount), count: Int(e.bCount)), seed: h)
            }
            var slot = Int(truncatingIfNeeded: h) & slotMask
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            slots[slot] = (h & CombineTable.tagMask) | UInt64(index + 1)
        }
    }

    /// Writes the entries sorted by (partition, a, b) through `writer`; b is the encoded partial of
    /// `aggregate`, or the entry's own b when `aggregate` is nil.
    func write(to writer: RunWriter, aggregate: Aggregate?) throws {
        let order = sortedOrder()
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        try withUnsafeMutableBytes(of: &scratch) { out in
            // `out` is a 32-byte local, so its base address exists; 32 >= every encoded partial size.
            let outBase = out.baseAddress.unsafelyUnwrapped
            for index in order {
                let e = entries[Int(index)]
                let a = UnsafeRawBufferPointer(start: arena + e.offset, count: Int(e.aCount))
                if let aggregate {
                    e.partial.encode(aggregate, into: outBase)
                    let size = PartialAggregate.encodedSize(aggregate)
                    try writer.add(partition: Int(e.partition), a: a, b: UnsafeRawBufferPointer(start: outBase, count: size))
                } else {
                    let b = UnsafeRawBufferPointer(start: arena + e.offset + Int(e.aCount), count: Int(e.bCount))
                    try writer.add(partition: Int(e.partition), a: a, b: b)
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
        slots.update(repeating: 0, count: slotMask + 1)
    }
}

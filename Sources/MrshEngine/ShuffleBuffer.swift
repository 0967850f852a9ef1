/// The map side's in-memory arena: entry bytes back to back in one growing buffer plus an index of
/// (partition, offset, lengths); no allocation per record. `sortedIndices()` orders the index by
/// (partition, shuffle order, arrival) so that it can be written as a sorted run.
final class ShuffleBuffer {
    struct Entry {
        var offset: Int
        var aCount: Int32
        var bCount: Int32
        var partition: Int32
    }

    private var storage: UnsafeMutableRawBufferPointer
    private(set) var used = 0
    private(set) var entries: [Entry] = []

    init(initialCapacity: Int = 1 << 16) {
        storage = .allocate(byteCount: max(initialCapacity, 64), alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Bytes held: entry bytes plus the index.
    var footprint: Int { used + entries.count * MemoryLayout<Entry>.stride }

    var isEmpty: Bool { entries.isEmpty }

    /// The storage's start; allocated with at least 64 bytes, so `baseAddress` is never nil.
    private var base: UnsafeMutableRawPointer { storage.baseAddress! }

    @inline(__always)
    func append(partition: Int, a: UnsafeRawBufferPointer, b: UnsafeRawBufferPointer) {
        let need = a.count + b.count
        if used + need > storage.count { grow(to: used + need) }
        if let pa = a.baseAddress, a.count > 0 { (base + used).copyMemory(from: pa, byteCount: a.count) }
        if let pb = b.baseAddress, b.count > 0 { (base + used + a.count).copyMemory(from: pb, byteCount: b.count) }
        entries.append(Entry(offset: used, aCount: Int32(a.count), bCount: Int32(b.count), partition: Int32(partition)))
        used += need
    }

    @inline(__always)
    func a(_ entry: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + entry.offset, count: Int(entry.aCount))
    }

    @inline(__always)
    func b(_ entry: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + entry.offset + Int(entry.aCount), count: Int(entry.bCount))
    }

    /// Sorts the index by partition, then `layout`'s order, then arrival (stable).
    func sort(layout: ShuffleLayout) {
        let base = self.base
        entries.sort { x, y in
            if x.partition != y.partition { return x.partition < y.partition }
            let c = layout.compare(
                UnsafeRawBufferPointer(start: base + x.offset, count: Int(x.aCount)),
                UnsafeRawBufferPointer(start: base + x.offset + Int(x.aCount), count: Int(x.bCount)),
                UnsafeRawBufferPointer(start: base + y.offset, count: Int(y.aCount)),
                UnsafeRawBufferPointer(start: base + y.offset + Int(y.aCount), count: Int(y.bCount)))
            if c != 0 { return c < 0 }
            return x.offset < y.offset
        }
    }

    /// Writes the sorted entries through `writer` (which combines).
    func write(to writer: RunWriter) throws {
        for entry in entries {
            try writer.add(partition: Int(entry.partition), a: a(entry), b: b(entry))
        }
    }

    func removeAll() {
        used = 0
        entries.removeAll(keepingCapacity: true)
    }

    private func grow(to minimum: Int) {
        var capacity = storage.count * 2
        while capacity < minimum { capacity *= 2 }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        if used > 0 { bigger.copyMemory(from: UnsafeRawBufferPointer(start: base, count: used)) }
        storage.deallocate()
        storage = bigger
    }
}

import CMrshShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The map side's in-memory arena: entry bytes back to back in one growing buffer plus an index of
/// (partition, offset, lengths); no allocation per record. `sortedIndices()` orders the index by
/// (partition, shuffle order, arrival) so that it can be written as a sorted run.
package final class ShuffleBuffer {
    struct Entry {
        var offset: Int
        var aCount: Int32
        var bCount: Int32
        var partition: Int32
        /// The first 8 bytes of the sort key as a big-endian number (complemented when descending), or 0
        /// when the order is not by bytes; set by `sort`. Unequal prefixes decide the order alone.
        var prefix: UInt64 = 0
    }

    private var storage: UnsafeMutableRawBufferPointer
    private(set) var used = 0
    private(set) var entries: [Entry] = []
    #if DEBUG
    /// Comparisons the last `sort` made past the prefix (for `HotPathBudgetTests`).
    private(set) var fullComparisons = 0
    #endif

    /// Storage never grows past this many bytes unless one entry needs more (the owner spills first).
    private let limit: Int

    init(initialCapacity: Int = 1 << 16, limit: Int = Int.max) {
        storage = ShuffleBuffer.reallocate(nil, byteCount: max(min(initialCapacity, limit), 64))
        self.limit = limit
    }

    deinit { free(storage.baseAddress) }

    /// Bytes held: entry bytes plus the index. (Allocated: at most `limit` for the storage, which
    /// `grow` caps, plus the index's capacity.)
    var footprint: Int { used + entries.count * MemoryLayout<Entry>.stride }

    /// Whether appending `bytes` more would grow the storage past its limit (spill first).
    @inline(__always)
    func wouldPassLimit(adding bytes: Int) -> Bool {
        used + bytes > storage.count && storage.count >= limit - entries.capacity * MemoryLayout<Entry>.stride
    }

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

    /// Sorts the index by partition, then `layout`'s order, then arrival (stable). Orders by bytes are
    /// radix-sorted on (partition, 8-byte prefix), and only runs of equal prefixes are sorted with
    /// `layout.compare`.
    func sort(layout: ShuffleLayout) {
        let base = self.base
        let prefixes = layout.prefixRule
        #if DEBUG
        var fullComparisons = 0
        defer { self.fullComparisons = fullComparisons }
        #endif
        let byFull: (Entry, Entry) -> Bool = { x, y in
            if x.partition != y.partition { return x.partition < y.partition }
            if x.prefix != y.prefix { return x.prefix < y.prefix }
            #if DEBUG
            fullComparisons += 1
            #endif
            let c = layout.compare(
                UnsafeRawBufferPointer(start: base + x.offset, count: Int(x.aCount)),
                UnsafeRawBufferPointer(start: base + x.offset + Int(x.aCount), count: Int(x.bCount)),
                UnsafeRawBufferPointer(start: base + y.offset, count: Int(y.aCount)),
                UnsafeRawBufferPointer(start: base + y.offset + Int(y.aCount), count: Int(y.bCount)))
            if c != 0 { return c < 0 }
            return x.offset < y.offset
        }
        if prefixes != .none {
            for i in entries.indices {
                let e = entries[i]
                entries[i].prefix = prefixes.prefix(of: UnsafeRawBufferPointer(start: base + e.offset, count: Int(e.aCount)))
            }
            let mask = ShuffleBuffer.radixSort(&entries)
            // Runs of equal (partition, prefix & mask) are in arrival order: order them by the full comparison
            // (which compares the whole prefix first).
            var i = 0
            let n = entries.count
            while i < n {
                var j = i + 1
                let run = entries[i].prefix & mask
                while j < n && entries[j].prefix & mask == run && entries[j].partition == entries[i].partition {
                    j += 1
                }
                if j - i > 1 { entries[i..<j].sort(by: byFull) }
                i = j
            }
            return
        }
        entries.sort(by: byFull)
    }

    /// Stable LSD radix sort of `entries` by (partition, prefix & mask), a byte per pass, on raw buffers.
    /// Passes whose byte is the same in every entry are skipped, and of the prefix bytes that vary only
    /// the `maxPrefixPasses` most significant are sorted: each pass scatters every entry, while the few
    /// entries left tied on the sorted bytes are cheap to order by comparisons. Returns the mask.
    @discardableResult
    static func radixSort(_ entries: inout [Entry], maxPrefixPasses: Int = 3) -> UInt64 {
        let n = entries.count
        if n < 2 { return ~0 }
        let passes = 12  // 8 prefix bytes, then 4 partition bytes
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: passes * 256 + 256)
        counts.initialize(repeating: 0, count: passes * 256 + 256)
        defer { counts.deallocate() }
        let offsets = counts + passes * 256
        var other = [Entry](repeating: Entry(offset: 0, aCount: 0, bCount: 0, partition: 0), count: n)
        var swapped = false
        var mask: UInt64 = ~0
        entries.withUnsafeMutableBufferPointer { first in
            other.withUnsafeMutableBufferPointer { second in
                // n >= 2: both buffers are non-empty, so their base addresses are non-nil.
                var source = first.baseAddress!
                var target = second.baseAddress!
                for i in 0..<n {
                    let p = source[i].prefix
                    let q = UInt32(bitPattern: source[i].partition)
                    counts[Int(truncatingIfNeeded: p & 0xFF)] &+= 1
                    counts[256 &+ Int(truncatingIfNeeded: (p >> 8) & 0xFF)] &+= 1
                    counts[512 &+ Int(truncatingIfNeeded: (p >> 16) & 0xFF)] &+= 1
                    counts[768 &+ Int(truncatingIfNeeded: (p >> 24) & 0xFF)] &+= 1
                    counts[1024 &+ Int(truncatingIfNeeded: (p >> 32) & 0xFF)] &+= 1
                    counts[1280 &+ Int(truncatingIfNeeded: (p >> 40) & 0xFF)] &+= 1
                    counts[1536 &+ Int(truncatingIfNeeded: (p >> 48) & 0xFF)] &+= 1
                    counts[1792 &+ Int(truncatingIfNeeded: p >> 56)] &+= 1
                    counts[2048 &+ Int(truncatingIfNeeded: q & 0xFF)] &+= 1
                    counts[2304 &+ Int(truncatingIfNeeded: (q >> 8) & 0xFF)] &+= 1
                    counts[2560 &+ Int(truncatingIfNeeded: (q >> 16) & 0xFF)] &+= 1
                    counts[2816 &+ Int(truncatingIfNeeded: q >> 24)] &+= 1
                }
                // The prefix passes to skip: all below the `maxPrefixPasses` most significant varying bytes.
                var varying = 0
                var lowest = 8
                for pass in stride(from: 7, through: 0, by: -1) where counts[pass * 256 + digit(source[0], pass)] != n {
                    if varying == maxPrefixPasses {
                        mask = ~0 << UInt64(8 * lowest)
                        break
                    }
                    varying += 1
                    lowest = pass
                }
                for pass in 0..<passes {
                    let row = counts + pass * 256
                    if row[digit(source[0], pass)] == n { continue }  // byte 0 is the first entry's too
                    if pass < 8 && mask != ~0 && pass < lowest { continue }
                    var total = 0
                    for d in 0..<256 {
                        offsets[d] = total
                        total &+= row[d]
                    }
                    if pass < 8 {
                        let shift = UInt64(8 * pass)
                        for i in 0..<n {
                            let e = source[i]
                            let d = Int(truncatingIfNeeded: (e.prefix >> shift) & 0xFF)
                            target[offsets[d]] = e
                            offsets[d] &+= 1
                        }
                    } else {
                        let shift = UInt32(8 * (pass - 8))
                        for i in 0..<n {
                            let e = source[i]
                            let d = Int(truncatingIfNeeded: (UInt32(bitPattern: e.partition) >> shift) & 0xFF)
                            target[offsets[d]] = e
                            offsets[d] &+= 1
                        }
                    }
                    swap(&source, &target)
                    swapped.toggle()
                }
            }
        }
        if swapped { swap(&entries, &other) }
        return mask
    }

    @inline(__always)
    private static func digit(_ e: Entry, _ pass: Int) -> Int {
        if pass < 8 { return Int(truncatingIfNeeded: (e.prefix >> UInt64(8 * pass)) & 0xFF) }
        return Int(truncatingIfNeeded: (UInt32(bitPattern: e.partition) >> UInt32(8 * (pass - 8))) & 0xFF)
    }

    /// Which bytes of a entries' a the order compares first, as memcmp would.
    package enum PrefixRule {
        case none
        case wholeAscending, wholeDescending
        case keyAscending, keyDescending

        /// The 8-byte prefix of an entry whose a is `a`, ordered as the layout orders entries (0 for `.none`).
        @inline(__always)
        func prefix(of a: UnsafeRawBufferPointer) -> UInt64 {
            switch self {
            case .none: return 0
            case .wholeAscending: return ShuffleBuffer.prefix(a)
            case .wholeDescending: return ~ShuffleBuffer.prefix(a)
            case .keyAscending: return ShuffleBuffer.prefix(Bytes.splitKey(a).key)
            case .keyDescending: return ~ShuffleBuffer.prefix(Bytes.splitKey(a).key)
            }
        }
    }

    /// The first 8 bytes (zero-padded) as a big-endian number: its order is memcmp's on those bytes, and
    /// a shorter string's padding sorts it first or ties it.
    @inline(__always)
    static func prefix(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let p = bytes.baseAddress else { return 0 }
        let n = bytes.count
        if n >= 8 { return UInt64(bigEndian: p.loadUnaligned(as: UInt64.self)) }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(56 - 8 * i) }
        return v
    }

    /// Writes the sorted entries through `writer` (which combines).
    func write(to writer: RunWriter) throws {
        let base = self.base
        try entries.withUnsafeBufferPointer { sorted in
            let n = sorted.count
            for i in 0..<n {
                // The entries are in sorted order, their bytes scattered: fetch a few entries ahead.
                if i + 8 < n {
                    let ahead = base + sorted[i + 8].offset
                    mrsh_prefetch(ahead)
                    mrsh_prefetch(ahead + 64)
                }
                let entry = sorted[i]
                try writer.add(partition: Int(entry.partition), a: a(entry), b: b(entry))
            }
        }
    }

    func removeAll() {
        used = 0
        entries.removeAll(keepingCapacity: true)
    }

    private func grow(to minimum: Int) {
        // Double, but not past the limit left after the index (unless the entry itself needs more).
        let cap = max(minimum, limit - entries.capacity * MemoryLayout<Entry>.stride)
        var capacity = storage.count * 2
        while capacity < minimum { capacity *= 2 }
        capacity = min(capacity, cap)
        storage = ShuffleBuffer.reallocate(storage.baseAddress, byteCount: capacity)
    }

    /// `realloc`: a large block (malloc maps it) grows by remapping its pages, without copying the bytes
    /// (a new block plus a copy cost a memmove of the whole arena at every doubling). malloc's blocks are
    /// 16-byte aligned.
    private static func reallocate(_ old: UnsafeMutableRawPointer?, byteCount: Int) -> UnsafeMutableRawBufferPointer {
        guard let p = realloc(old, byteCount) else { fatalError("out of memory: \(byteCount) bytes for the shuffle buffer") }
        return UnsafeMutableRawBufferPointer(start: p, count: byteCount)
    }
}

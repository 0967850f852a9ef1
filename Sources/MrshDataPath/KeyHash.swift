/// A fast fixed 64-bit hash of a byte string for the in-mapper combiner's table (8 bytes per step,
/// overlapping loads for the tail, a multiply-xorshift finish). Identical in every process, but it only
/// places keys in a task's private table: partitions are chosen by `FNV1a`, never by this.
enum KeyHash {
    private static let k0: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let k1: UInt64 = 0xBF58_476D_1CE4_E5B9
    private static let k2: UInt64 = 0x94D0_49BB_1331_11EB

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let n = bytes.count
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* k0)
        guard let p = bytes.baseAddress, n > 0 else { return mix(h) }
        if n >= 8 {
            var i = 0
            while i + 8 <= n {
                h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k1
                h ^= h >> 31
                i += 8
            }
            if i < n {
                // The last 8 bytes, overlapping what came before: n >= 8, so the load is in bounds.
                h = (h ^ p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)) &* k2
            }
        } else if n >= 4 {
            let lo = UInt64(p.loadUnaligned(as: UInt32.self))
            let hi = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
            h = (h ^ (lo | hi << 32)) &* k1
        } else {
            let b0 = UInt64(p.load(as: UInt8.self))
            let b1 = UInt64(p.load(fromByteOffset: n >> 1, as: UInt8.self))
            let b2 = UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self))
            h = (h ^ (b0 | b1 << 8 | b2 << 16)) &* k1
        }
        return mix(h)
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 32
        h = h &* k2
        h ^= h >> 29
        return h
    }
}

/// FNV-1a, 64 bits: the fixed hash that chooses a key's partition, identical in every process.
/// (Swift's `Hasher` is seeded per process and must never choose a partition.)
public enum FNV1a {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = offsetBasis
        for byte in bytes {
            h = (h ^ UInt64(byte)) &* prime
        }
        return h
    }

    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}

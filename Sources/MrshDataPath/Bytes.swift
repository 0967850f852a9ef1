#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-string helpers for the hot paths.
public enum Bytes {
    /// memcmp order, a shorter prefix first. Returns <0, 0, >0.
    @inline(__always)
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    @inline(__always)
    public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.count == 0 { return true }
        // count > 0, so both base addresses are non-nil.
        return memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    /// The key (bytes before the first TAB, or all) and the value (bytes after it, or empty).
    @inline(__always)
    public static func splitKey(_ record: UnsafeRawBufferPointer) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard let base = record.baseAddress, record.count > 0 else {
            return (record, UnsafeRawBufferPointer(start: record.baseAddress, count: 0))
        }
        var k = 0
        if record.count <= 32 {
            // Short records (words): a plain loop beats a memchr call.
            while k < record.count && base.load(fromByteOffset: k, as: UInt8.self) != 0x09 { k += 1 }
            if k == record.count { return (record, UnsafeRawBufferPointer(start: base, count: 0)) }
        } else {
            guard let tab = memchr(base, 0x09, record.count) else {
                return (record, UnsafeRawBufferPointer(start: record.baseAddress, count: 0))
            }
            k = base.distance(to: UnsafeRawPointer(tab))
        }
        return (
            UnsafeRawBufferPointer(start: base, count: k),
            UnsafeRawBufferPointer(start: base + k + 1, count: record.count - k - 1)
        )
    }

    /// The first `n` fields (with the TABs between them), or the whole record when it has fewer.
    @inline(__always)
    public static func leadingFields(_ record: UnsafeRawBufferPointer, _ n: Int) -> UnsafeRawBufferPointer {
        if n == 1 { return splitKey(record).key }
        guard let base = record.baseAddress, n > 0 else { return UnsafeRawBufferPointer(start: record.baseAddress, count: 0) }
        var start = 0
        var tabs = 0
        while start < record.count {
            guard let tab = memchr(base + start, 0x09, record.count - start) else { break }
            let at = base.distance(to: UnsafeRawPointer(tab))
            tabs += 1
            if tabs == n { return UnsafeRawBufferPointer(start: base, count: at) }
            start = at + 1
        }
        return record
    }

    static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }
}

/// The bytes of `prependSortKey`'s KEY field: an order-preserving encoding of sort-key values, so that
/// comparing two KEYs as plain bytes (memcmp, a shorter prefix first) orders records by their keys.
///
/// The bytes are all printable (0x20...0x50): never TAB, LF or CR, so KEY is one field of a line. Each key
/// part is a tag byte and a body:
/// - ascending: numbers (tag `0`) before text (tag `1`) before missing (tag `2`);
/// - descending: text (tag `0`) before numbers (tag `1`), each in reverse order, and missing still last
///   (tag `2`): a descending part reverses numbers and text, not where missing values go.
/// - A number is 20 "nibble" bytes (0x40 + 4 bits each, most significant first): the 8-byte
///   order-preserving form of the nearest double, then a 16-bit residual (the Int64 minus that double,
///   biased), so every Int64 and every double orders exactly, and an Int64 equal to a double encodes the
///   same. -0.0 encodes as 0; NaN after +infinity.
/// - Text is 2 nibble bytes per byte, then a terminator below every nibble byte (0x20), so a prefix orders
///   first.
/// - Descending parts complement every nibble (0x4F - nibble) and end text with 0x50, above every nibble.
///
/// The encoding is a `package` contract: shuffle kinds compare KEY as bytes and strip it, nothing decodes it.
package enum SortKeyEncoding {
    /// One key value.
    package enum Part: Sendable, Equatable {
        case number(NumericValue)
        case text([UInt8])
        case missing
    }

    static let numberTag: (ascending: UInt8, descending: UInt8) = (0x30, 0x31)
    static let textTag: (ascending: UInt8, descending: UInt8) = (0x31, 0x30)
    static let missingTag: UInt8 = 0x32
    static let ascendingTerminator: UInt8 = 0x20
    static let descendingTerminator: UInt8 = 0x50

    /// The KEY of the given parts (no TAB after it).
    package static func encode(_ parts: [(Part, descending: Bool)]) -> [UInt8] {
        let out = ScratchBuffer()
        for (part, descending) in parts {
            switch part {
            case .number(let n): appendNumber(n, descending: descending, to: out)
            case .text(let t): t.withUnsafeBytes { appendText($0, descending: descending, to: out) }
            case .missing: appendMissing(descending: descending, to: out)
            }
        }
        return Array(out.bytes)
    }

    /// The 64-bit order-preserving form of a number's nearest double, and its residual.
    @inline(__always)
    static func numberKey(_ n: NumericValue) -> (UInt64, UInt16) {
        var d: Double
        var residual: Int64 = 0
        switch n {
        case .integer(let i):
            d = Double(i)  // nearest; rounding is monotonic, so the doubles already order the integers
            if d >= 9.223372036854775808e18 {
                residual = i &+ Int64.min  // i - 2^63, in [-1024, -1]
            } else {
                residual = i - Int64(d)  // |residual| <= 1024
            }
        case .decimal(let x):
            d = x == 0 ? 0 : (x.isNaN ? .nan : x)
        }
        let bits = d.bitPattern
        let key = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
        return (key, UInt16(truncatingIfNeeded: residual &+ 0x8000))
    }

    @inline(__always)
    private static func appendNibbles(_ value: UInt64, bytes: Int, descending: Bool, to p: UnsafeMutablePointer<UInt8>) {
        var k = 0
        var shift = bytes * 8 - 4
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0x0F
            p[k] = descending ? 0x4F - nibble : 0x40 + nibble
            k += 1
            shift -= 4
        }
    }

    static func appendNumber(_ n: NumericValue, descending: Bool, to out: ScratchBuffer) {
        let (key, residual) = numberKey(n)
        let p = out.reserve(21).assumingMemoryBound(to: UInt8.self)
        p[0] = descending ? numberTag.descending : numberTag.ascending
        appendNibbles(key, bytes: 8, descending: descending, to: p + 1)
        appendNibbles(UInt64(residual), bytes: 2, descending: descending, to: p + 17)
        out.commit(21)
    }

    static func appendText(_ text: UnsafeRawBufferPointer, descending: Bool, to out: ScratchBuffer) {
        let n = text.count
        let p = out.reserve(2 * n + 2).assumingMemoryBound(to: UInt8.self)
        p[0] = descending ? textTag.descending : textTag.ascending
        var k = 1
        for b in text {
            if descending {
                p[k] = 0x4F - (b >> 4)
                p[k + 1] = 0x4F - (b & 0x0F)
            } else {
                p[k] = 0x40 + (b >> 4)
                p[k + 1] = 0x40 + (b & 0x0F)
            }
            k += 2
        }
        p[k] = descending ? descendingTerminator : ascendingTerminator
        out.commit(k + 1)
    }

    static func appendMissing(descending: Bool, to out: ScratchBuffer) {
        out.append(missingTag)
    }
}

import CMrshShims

/// Finds the words of a record: maximal runs of letters (Unicode general category L*), with invalid
/// UTF-8 bytes acting as separators. This is the word-count hot path.
///
/// The scan goes 64 bytes at a time. A block of pure ASCII is classified branch-free with SSE2 compares
/// (`mrsh_letter_mask64`) into a 64-bit "letter" mask; word starts and ends are then the mask's 0->1 and 1->0 edges,
/// visited with trailing-zero counts. A block that contains a non-ASCII byte is scanned scalar by scalar
/// (hand-decoded UTF-8, BMP letters from `LetterTable`). The final partial block is copied into a
/// zero-padded 64-byte local (zero is not a letter), so short records take the fast path too.
/// Words are emitted as slices of the input: nothing is copied or allocated.
enum WordScanner {
    /// Calls `body` with every word of `bytes`, in order.
    @inline(__always)
    static func forEachWord(
        in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        _ = try scan(bytes, countingNewlines: false, body)
    }

    /// `forEachWord` over a block of lines that also counts its '\n' bytes (returned).
    @inline(__always)
    static func forEachWordCountingNewlines(
        in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> Int {
        try scan(bytes, countingNewlines: true, body)
    }

    @inline(__always)
    private static func scan(
        _ bytes: UnsafeRawBufferPointer, countingNewlines: Bool, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> Int {
        guard let raw = bytes.baseAddress else { return 0 }
        var newlines = 0
        let n = bytes.count
        var wordStart = -1
        var p = 0
        while p < n {
            let remaining = n - p
            var high: UInt64 = 0
            var lineEnds: UInt64 = 0
            let mask: UInt64
            if remaining >= 64 {
                mask = mrsh_letter_mask64(raw + p, &high, &lineEnds)
            } else {
                var padded = SIMD64<UInt8>(repeating: 0)
                withUnsafeMutableBytes(of: &padded) { dst in
                    // `dst` is a 64-byte local, so its base address exists; remaining < 64.
                    dst.baseAddress.unsafelyUnwrapped.copyMemory(from: raw + p, byteCount: remaining)
                }
                mask = withUnsafeBytes(of: &padded) { src in
                    mrsh_letter_mask64(src.baseAddress.unsafelyUnwrapped, &high, &lineEnds)
                }
            }
            if countingNewlines { newlines &+= lineEnds.nonzeroBitCount }
            if high == 0 {
                let previous: UInt64 = wordStart >= 0 ? 1 : 0
                let shifted = mask << 1 | previous
                var starts = mask & ~shifted
                var ends = ~mask & shifted
                while true {
                    if wordStart >= 0 {
                        if ends == 0 { break }
                        let end = p + ends.trailingZeroBitCount
                        ends &= ends &- 1
                        try body(UnsafeRawBufferPointer(start: raw + wordStart, count: end - wordStart))
                        wordStart = -1
                    } else {
                        if starts == 0 { break }
                        wordStart = p + starts.trailingZeroBitCount
                        starts &= starts &- 1
                    }
                }
                p += Swift.min(64, remaining)
            } else {
                p = try scanScalars(raw, from: p, to: Swift.min(p + 64, n), count: n, wordStart: &wordStart, body)
            }
        }
        if wordStart >= 0 {
            try body(UnsafeRawBufferPointer(start: raw + wordStart, count: n - wordStart))
        }
        return newlines
    }

    /// Scalar-by-scalar scan of `from ..< to` (it may run up to 3 bytes past `to` to finish a scalar).
    /// Returns where the next block starts.
    @inline(never)
    private static func scanScalars(
        _ raw: UnsafeRawPointer, from: Int, to stop: Int, count n: Int, wordStart: inout Int,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> Int {
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var p = from
        while p < stop {
            let b = base[p]
            var length = 1
            let isLetter: Bool
            if b < 0x80 {
                isLetter = (b | 0x20) &- 0x61 < 26
            } else {
                let decoded = UTF8Scalar.decode(base, p, n)
                if decoded.length == 0 {
                    isLetter = false
                } else {
                    length = decoded.length
                    isLetter = LetterTable.isLetter(decoded.value)
                }
            }
            if isLetter {
                if wordStart < 0 { wordStart = p }
            } else if wordStart >= 0 {
                try body(UnsafeRawBufferPointer(start: raw + wordStart, count: p - wordStart))
                wordStart = -1
            }
            p += length
        }
        return p
    }
}

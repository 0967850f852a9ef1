/// `lower` / `upper`: case-maps the whole record.
///
/// ASCII runs are mapped 8 bytes at a time with SWAR arithmetic. A non-ASCII scalar is mapped with the
/// standard library's full Unicode mapping (which may change its length, e.g. "ß" -> "SS"); results are
/// cached per scalar so steady state does not allocate. Invalid UTF-8 bytes are copied unchanged.
final class CaseStage: RecordStage {
    private let mapper: CaseMapper
    private let out = ScratchBuffer()

    init(upper: Bool) {
        mapper = CaseMapper(upper: upper)
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        out.removeAll()
        mapper.append(record, to: out)
        try next(out.bytes)
    }
}

/// The case mapping of `CaseStage`, appending to any `ScratchBuffer` (the stage's output, or the scratch
/// arena of the expression evaluator's `lower(s)` and `upper(s)`).
final class CaseMapper {
    private let toUpper: Bool
    /// Mapped UTF-8 bytes of non-ASCII scalars seen so far (bounded).
    private var cache: [UInt32: [UInt8]] = [:]
    private static let cacheLimit = 1 << 16

    init(upper: Bool) {
        toUpper = upper
    }

    /// Appends the case-mapped `record` to `out`.
    func append(_ record: UnsafeRawBufferPointer, to out: ScratchBuffer) {
        let n = record.count
        guard let raw = record.baseAddress else { return }
        let src = raw.assumingMemoryBound(to: UInt8.self)
        let dst = out.reserve(n)
        var i = 0
        // Fast path: whole 8-byte ASCII words, then the ASCII tail the same way through a local word.
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & 0x8080_8080_8080_8080 != 0 { break }
            dst.storeBytes(of: mapASCII(w), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        if i + 8 > n && i < n {
            var w: UInt64 = 0
            withUnsafeMutableBytes(of: &w) { $0.baseAddress.unsafelyUnwrapped.copyMemory(from: raw + i, byteCount: n - i) }
            if w & 0x8080_8080_8080_8080 == 0 {
                w = mapASCII(w)
                withUnsafeBytes(of: &w) { (dst + i).copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: n - i) }
                i = n
            }
        }
        out.commit(i)
        // Slow path from the first non-ASCII byte on: scalar by scalar.
        while i < n {
            let b = src[i]
            if b < 0x80 {
                out.append(mapASCII(b))
                i += 1
                continue
            }
            let decoded = UTF8Scalar.decode(src, i, n)
            if decoded.length == 0 {
                out.append(b)
                i += 1
                continue
            }
            appendMapped(decoded.value, original: UnsafeRawBufferPointer(start: raw + i, count: decoded.length), to: out)
            i += decoded.length
        }
    }

    /// Maps eight ASCII bytes at once (byte order does not matter: every byte is independent).
    @inline(__always)
    private func mapASCII(_ w: UInt64) -> UInt64 {
        // Top bit of each byte set iff the byte is in the range to change (no carries: bytes < 0x80).
        let (low, high): (UInt64, UInt64) = toUpper
            ? (0x1F1F_1F1F_1F1F_1F1F, 0x0505_0505_0505_0505)  // 'a'...'z'
            : (0x3F3F_3F3F_3F3F_3F3F, 0x2525_2525_2525_2525)  // 'A'...'Z'
        let inRange = (w &+ low) & ~(w &+ high) & 0x8080_8080_8080_8080
        let flip = inRange >> 2  // 0x20 in every byte to change
        return w ^ flip
    }

    @inline(__always)
    private func mapASCII(_ b: UInt8) -> UInt8 {
        if toUpper {
            return b &- 0x61 < 26 ? b ^ 0x20 : b
        }
        return b &- 0x41 < 26 ? b ^ 0x20 : b
    }

    private func appendMapped(_ value: UInt32, original: UnsafeRawBufferPointer, to out: ScratchBuffer) {
        if let mapped = cache[value] {
            out.append(mapped)
            return
        }
        guard let scalar = Unicode.Scalar(value) else {
            out.append(original)
            return
        }
        let mapping = toUpper ? scalar.properties.uppercaseMapping : scalar.properties.lowercaseMapping
        let bytes = Array(mapping.utf8)
        if cache.count < Self.cacheLimit {
            cache[value] = bytes
        }
        out.append(bytes)
    }
}

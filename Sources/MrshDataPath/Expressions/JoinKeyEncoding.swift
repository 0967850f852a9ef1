/// The bytes of a join key (see `Join`), one home for both join strategies: the text of the key
/// expression (what `select` prints) with `\` written `\\`, TAB `\t`, LF `\n` and every other byte below
/// 0x20 `\xHH`, so no key holds a TAB, a line break or a byte below 0x20. The encoding is injective: equal
/// texts and only they give equal keys.
///
/// Byte 0x01, which no encoded key holds, marks keys the stage makes itself: a salted hot key is the key,
/// 0x01 and the salt's decimal digits (`JoinSalt`); a left record whose key is empty gets 0x01 and 16 hex
/// digits of a hash of the record (`appendUnmatchable`), which spreads such records over the reducers and
/// matches nothing, since the right side drops empty keys.
package enum JoinKeyEncoding {
    /// The byte between a key and its salt, and the first byte of a left record's unmatchable key.
    package static let marker: UInt8 = 0x01

    /// Whether `byte` is written as an escape.
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x5C }

    /// Whether every byte of `text` stands for itself (the common case: one scan, then one copy).
    @inline(__always)
    static func isPlain(_ text: UnsafeRawBufferPointer) -> Bool {
        for byte in text where needsEscape(byte) { return false }
        return true
    }

    /// Appends the key of `text` to `out`.
    package static func append(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if isPlain(text) {
            out.append(contentsOf: text)
            return
        }
        for byte in text { appendEscaped(byte) { out.append($0) } }
    }

    /// The key of `text`.
    package static func key(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        text.withUnsafeBytes { append($0, to: &out) }
        return out
    }

    /// Appends the key of `text` to a stage's buffer.
    @inline(__always)
    static func append(_ text: UnsafeRawBufferPointer, to out: ScratchBuffer) {
        if isPlain(text) {
            out.append(text)
            return
        }
        for byte in text { appendEscaped(byte) { out.append($0) } }
    }

    @inline(__always)
    private static func appendEscaped(_ byte: UInt8, _ put: (UInt8) -> Void) {
        guard needsEscape(byte) else {
            put(byte)
            return
        }
        put(0x5C)
        switch byte {
        case 0x5C: put(0x5C)
        case 0x09: put(0x74)  // t
        case 0x0A: put(0x6E)  // n
        default:
            put(0x78)  // x
            put(hexDigit(byte >> 4))
            put(hexDigit(byte & 0x0F))
        }
    }

    /// The uppercase hex digit of 0...15.
    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x37 + value }

    /// Appends 0x01 and the decimal digits of `salt` (a salted key: the key is already in `out`).
    package static func appendSalt(_ salt: Int, to out: inout [UInt8]) {
        out.append(marker)
        PartReducer.appendInteger(Int64(salt), to: &out)
    }

    @inline(__always)
    static func appendSalt(_ salt: Int, to out: ScratchBuffer) {
        out.append(marker)
        NumberText.appendInteger(Int64(salt), to: out)
    }

    /// Appends the key of a left record whose key text is empty: 0x01 and 16 hex digits of FNV-1a of the
    /// record (never equal to a right key, spread over the partitions).
    static func appendUnmatchable(record: UnsafeRawBufferPointer, to out: ScratchBuffer) {
        out.append(marker)
        var h = FNV1a.hash(record)
        let p = out.reserve(16).assumingMemoryBound(to: UInt8.self)
        for i in stride(from: 15, through: 0, by: -1) {
            let digit = UInt8(h & 0xF)
            p[i] = digit < 10 ? 0x30 + digit : 0x57 + digit
            h >>= 4
        }
        out.commit(16)
    }
}

import CMrshShims
import MrshPlan
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The map task's fast path for a pipeline that starts with `grep` of a literal (ripgrep-style): the
/// literal is searched with memmem over a whole block of lines, and only around a hit are the
/// enclosing line's bounds found, so lines without a match are never visited one by one.
struct LiteralGrepScan {
    let needle: [UInt8]

    /// The scan for `ops.first` when it is a non-negated `grep` whose pattern matches exactly its own
    /// bytes (a literal, or a case-sensitive regex without metacharacters) and holds no newline.
    init?(_ ops: [RecordOp]) {
        guard case .grep(let pattern, negated: false)? = ops.first else { return nil }
        let text: String
        switch pattern {
        case .literal(let literal): text = literal
        case .regex(let regex, let caseInsensitive):
            guard !caseInsensitive, LiteralSearch.isPlainLiteral(regex) else { return nil }
            text = regex
        }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, !bytes.contains(0x0A), !bytes.contains(0x0D) else { return nil }
        needle = bytes
    }

    /// Calls `body` with each line of `block` (whole lines as `LineReader.forEachBlock` yields them) that
    /// contains the needle, without its line feed (a CR before it stays: records keep their bytes), until `body` returns false.
    /// Returns whether `body` asked to go on.
    func forEachMatch(
        in block: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Bool
    ) rethrows -> Bool {
        guard let base = block.baseAddress else { return true }
        let count = block.count
        var from = 0
        while count - from >= needle.count {
            let hit: UnsafeRawPointer? = needle.withUnsafeBytes { nb in
                // The needle is non-empty (see init), so its base address exists.
                mrsh_find(base + from, count - from, nb.baseAddress, nb.count)
            }
            guard let hit else { return true }
            let at = base.distance(to: hit)
            var lineStart = from
            if at > from, let previous = mrsh_memrchr(base + from, 0x0A, at - from) {
                lineStart = base.distance(to: previous) + 1
            }
            var lineEnd = count
            var next = count
            if let newline = memchr(base + at, 0x0A, count - at) {
                lineEnd = base.distance(to: UnsafeRawPointer(newline))
                next = lineEnd + 1
            }
            if try !body(UnsafeRawBufferPointer(start: base + lineStart, count: lineEnd - lineStart)) { return false }
            from = next
        }
        return true
    }

    /// The lines of a block: its newlines, plus one for a last line without a newline. The count runs at
    /// memory speed (`mrsh_count_byte`, AVX2): a word-at-a-time Swift loop here was 56% of grep-count's
    /// CPU time on the 1 GiB log.
    static func lineCount(_ block: UnsafeRawBufferPointer) -> Int64 {
        guard let base = block.baseAddress, block.count > 0 else { return 0 }
        let n = block.count
        var lines = mrsh_count_byte(base, n, 0x0A)
        if base.load(fromByteOffset: n - 1, as: UInt8.self) != 0x0A { lines += 1 }
        return Int64(lines)
    }
}

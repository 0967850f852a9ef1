import MrshPlan

/// `split`: cuts the record into fields and joins them with TAB.
///
/// - whitespace: fields are runs of bytes other than space, TAB and CR; leading and trailing blanks are
///   ignored (like awk; the CR of a CRLF line is a blank, so it ends no field).
/// - literal: every occurrence of the separator separates two fields (empty fields are kept).
/// - regex: every non-empty match separates two fields; empty matches are ignored (they would
///   otherwise split between every byte).
final class SplitStage: RecordStage {
    private enum Mode {
        case whitespace
        case separator(TextMatcher)
        /// `split "\t"`: cutting at TABs and joining with TABs gives the record back, byte for byte.
        case identity
    }

    private let mode: Mode
    private let out = ScratchBuffer()

    init(_ separator: FieldSeparator) throws {
        switch separator {
        case .whitespace:
            mode = .whitespace
        case .literal(let text):
            guard !text.isEmpty else { throw OperatorError("split: the separator must not be empty") }
            mode = text == "\t" ? .identity : .separator(.literal(LiteralSearch(text)))
        case .regex(let text, let caseInsensitive):
            mode = .separator(
                try TextMatcher(regex: text, caseInsensitive: caseInsensitive, positions: true, context: "split"))
        }
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        out.removeAll()
        switch mode {
        case .identity:
            return try next(record)
        case .whitespace:
            splitOnBlanks(record)
        case .separator(let matcher):
            split(record, on: matcher)
        }
        try next(out.bytes)
    }

    private func splitOnBlanks(_ record: UnsafeRawBufferPointer) {
        guard let raw = record.baseAddress else { return }
        let bytes = raw.assumingMemoryBound(to: UInt8.self)
        let n = record.count
        // Each field and its TAB fit in the record's length.
        let dst = out.reserve(n)
        var written = 0
        var i = 0
        while true {
            while i < n && (bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D) { i += 1 }
            if i == n { break }
            let start = i
            while i < n && bytes[i] != 0x20 && bytes[i] != 0x09 && bytes[i] != 0x0D { i += 1 }
            if written > 0 {
                dst.storeBytes(of: 0x09, toByteOffset: written, as: UInt8.self)
                written += 1
            }
            (dst + written).copyMemory(from: raw + start, byteCount: i - start)
            written += i - start
        }
        out.commit(written)
    }

    private func split(_ record: UnsafeRawBufferPointer, on matcher: TextMatcher) {
        let n = record.count
        var fieldStart = 0
        var from = 0
        while from <= n, let match = matcher.firstMatch(in: record, from: from) {
            let whole = match.whole
            if whole.isEmpty {
                from = whole.lowerBound + 1
                continue
            }
            out.append(UnsafeRawBufferPointer(rebasing: record[fieldStart..<whole.lowerBound]))
            out.append(0x09)
            fieldStart = whole.upperBound
            from = whole.upperBound
        }
        out.append(UnsafeRawBufferPointer(rebasing: record[fieldStart..<n]))
    }
}

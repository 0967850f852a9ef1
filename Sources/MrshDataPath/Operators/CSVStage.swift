import CMrshShims

/// `parse csv`: one RFC 4180 record (which may hold line breaks inside quoted fields) to its fields,
/// joined by TAB. In the output a field's TAB, LF and CR bytes are written as the two characters `\t`, `\n`
/// and `\r`; every other byte (backslashes, invalid UTF-8, NUL) is copied unchanged.
///
/// The fields of a record, field by field (`CSVParser.parse`):
/// - A field that starts with `"` is quoted: it runs to the next lone `"`; `""` inside it is one `"`;
///   commas and line breaks inside it are part of the field.
/// - Any other field is unquoted: it runs to the next `,` or the record's end, and a `"` inside it is kept
///   as a byte (lenient: RFC 4180 forbids it).
/// - Bytes after the closing quote of a quoted field and before the next `,` are appended to the field as
///   they are (`"ab"c` is `abc`, as Python's csv module reads it; RFC 4180 forbids them).
/// - An unterminated quoted field runs to the record's end.
/// - An empty record is one empty field (the empty output record); `a,` is two fields, `a` and empty.
///
/// Where a record ends is the reader's business (`LineReader.forEachCSVRecord`): at a line end outside
/// quotes, counting every `"` (see `CSVScan`), with the CR of a CRLF end removed; so a CR is a field's byte
/// here. Allocation-free: the stage's `ScratchBuffer` is reused for every record.
///
/// `fieldLimit`: when the next stage reads only fields 1...K (`select` of plain fields, see
/// `PipelineStorage`), parsing stops after field K: fields 1...K are the same, the rest is never read.
final class CSVStage: RecordStage {
    private let out = ScratchBuffer()
    private let fieldLimit: Int

    init(fieldLimit: Int = Int.max) {
        self.fieldLimit = max(fieldLimit, 1)
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        out.removeAll()
        CSVParser.parse(record, into: out, escape: true, fieldLimit: fieldLimit)
        try next(out.bytes)
    }
}

/// The field parser of `parse csv` and of the header check (see `CSVStage` for the rules).
package enum CSVParser {
    /// Appends the fields of `record` to `out`, separated by TAB; with `escape`, a field's TAB, LF and CR
    /// are written as `\t`, `\n`, `\r`. Returns the number of fields (at least 1). `fieldEnds`, when given,
    /// receives the offset in `out` where each field's bytes end. `fieldLimit` (at least 1): stop after
    /// that many fields, leaving out the rest of the record.
    @discardableResult
    static func parse(
        _ record: UnsafeRawBufferPointer, into out: ScratchBuffer, escape: Bool,
        fieldEnds: UnsafeMutablePointer<[Int]>? = nil, fieldLimit: Int = Int.max
    ) -> Int {
        let n = record.count
        // Every input byte makes at most two output bytes (an escaped TAB, LF or CR); a comma makes one TAB.
        let first = out.count
        let dst = out.reserve(2 * n + 1).assumingMemoryBound(to: UInt8.self)
        guard n > 0, let raw = record.baseAddress else {
            fieldEnds?.pointee.append(first)
            return 1
        }
        let src = raw.assumingMemoryBound(to: UInt8.self)
        var w = 0
        var i = 0
        var fields = 0

        while true {
            // At a field start.
            if i < n && src[i] == 0x22 {
                i += 1
                // Quoted: to the closing quote ("" is a quote), or the record's end.
                while i < n {
                    let b = src[i]
                    if b == 0x22 {
                        if i + 1 < n && src[i + 1] == 0x22 {
                            put(0x22, dst, &w, escape)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    put(b, dst, &w, escape)
                    i += 1
                }
            }
            // Unquoted bytes (the whole field, or what follows a closing quote) up to the next comma.
            while i < n {
                let b = src[i]
                if b == 0x2C { break }
                put(b, dst, &w, escape)
                i += 1
            }
            fields += 1
            fieldEnds?.pointee.append(first + w)
            if i >= n || fields >= fieldLimit { break }
            // A comma: the next field starts after it.
            i += 1
            dst[w] = 0x09
            w += 1
        }
        out.commit(w)
        return fields
    }

    /// Writes one byte of a field at `dst[w]`, as two characters for a TAB, LF or CR when `escape`.
    @inline(__always)
    static func put(_ byte: UInt8, _ dst: UnsafeMutablePointer<UInt8>, _ w: inout Int, _ escape: Bool) {
        if escape {
            switch byte {
            case 0x09: dst[w] = 0x5C; dst[w + 1] = 0x74; w += 2; return
            case 0x0A: dst[w] = 0x5C; dst[w + 1] = 0x6E; w += 2; return
            case 0x0D: dst[w] = 0x5C; dst[w + 1] = 0x72; w += 2; return
            default: break
            }
        }
        dst[w] = byte
        w += 1
    }

    /// The fields of `record`, unescaped (for the header check; allocates).
    package static func fields(_ record: UnsafeRawBufferPointer) -> [[UInt8]] {
        let out = ScratchBuffer()
        var ends: [Int] = []
        _ = withUnsafeMutablePointer(to: &ends) { parse(record, into: out, escape: false, fieldEnds: $0) }
        let bytes = out.bytes
        var result: [[UInt8]] = []
        var start = 0
        for end in ends {
            result.append(Array(bytes[start..<end]))
            start = end + 1
        }
        return result
    }
}

/// Where CSV records end: at a line feed outside quotes. Counting every `"` (RFC 4180 has no other quote
/// syntax: a doubled quote counts two), a byte is inside quotes exactly when an odd number of quotes come
/// before it in its record; since a record ends only after an even number, the parity can be counted from
/// the file's start just as well. So position p > 0 is a record start exactly when byte p - 1 is `\n` and
/// the number of `"` in bytes 0 ..< p is even. Malformed input gets the same rule: a stray quote in an
/// unquoted field leaves its record open to the next line end after the next quote, as an unterminated
/// quoted field leaves it open to the end of the input.
package enum CSVScan {
    /// Whether `bytes` holds an odd number of `"` (memory-speed count).
    @inline(__always)
    package static func oddQuotes(_ bytes: UnsafeRawPointer, _ count: Int) -> Bool {
        count > 0 && mrsh_count_byte(bytes, count, 0x22) & 1 == 1
    }

    /// For each of `targets` (sorted file offsets, each > 0), the first record start at or after it (the
    /// file's size when no record starts there): one pass over the file from its start, counting quotes.
    /// Offsets past `size` map to `size`.
    package static func recordStarts(
        path: String, size: Int64, targets: [Int64], cancel: CancellationFlag?
    ) throws -> [Int64] {
        var result: [Int64] = []
        result.reserveCapacity(targets.count)
        guard !targets.isEmpty else { return result }
        let fd = try FileIO.openForReading(path)
        defer { FileIO.closeQuietly(fd) }
        let capacity = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        var position: Int64 = 0  // file offset of buffer[0]
        var odd = false  // an odd number of quotes in bytes 0 ..< position + i
        var next = 0  // the target being looked for
        // True once bytes up to target - 1 are counted: then look for the first '\n' outside quotes.
        var seeking = false
        while next < targets.count && position < size {
            try cancel?.check()
            let n = try FileIO.read(fd, into: buffer, count: Int(min(Int64(capacity), size - position)), at: position, path: path)
            if n == 0 { break }
            var i = 0
            while i < n && next < targets.count {
                if !seeking {
                    let stop = Int(min(Int64(n), targets[next] - 1 - position))
                    if stop > i {
                        if oddQuotes(buffer + i, stop - i) { odd.toggle() }
                        i = stop
                    }
                    if i >= n { break }
                    seeking = true
                }
                // Byte i is at or after target - 1: the record start is after the first '\n' outside quotes.
                var found = false
                while i < n {
                    let b = bytes[i]
                    i += 1
                    if b == 0x22 {
                        odd.toggle()
                    } else if b == 0x0A && !odd {
                        found = true
                        break
                    }
                }
                if found {
                    let start = position + Int64(i)
                    while next < targets.count && targets[next] <= start {
                        result.append(min(start, size))
                        next += 1
                    }
                    seeking = false
                }
            }
            position += Int64(n)
        }
        while result.count < targets.count { result.append(size) }
        return result
    }
}

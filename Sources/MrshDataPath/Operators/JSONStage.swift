#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMrshShims

/// `parse json "a.b", "c", ...`: a JSON Lines record (one JSON object) to one field per path, joined by TAB
/// in path order.
///
/// A path is a list of components. Each component is an object key (compared with the key's unescaped
/// bytes); a component that is a non-negative decimal integer without leading zeros (`0`, `12`) also indexes
/// an array (0-based), so `"items.0.id"` reaches into `{"items": [{"id": 7}]}` and `"0"` still names a key
/// `"0"` of an object. A path of no components is the whole object. A key that occurs twice in one object:
/// the last one counts (as in Python's `json` and JavaScript).
///
/// A field is the value's text: a string unescaped (every JSON escape, `\uXXXX` and surrogate pairs to
/// UTF-8; a lone surrogate becomes U+FFFD), then its TAB, LF and CR written as `\t`, `\n`, `\r` as `parse
/// csv` does; a number exactly as written; `true` and `false`; an empty field for `null` and for a missing
/// path (a key that is absent, an index past the end, a component applied to a string or number); an
/// object or array as its compact JSON text (whitespace outside strings removed, strings as written).
///
/// The whole record is validated (RFC 8259: one object, optional whitespace around it, no control bytes
/// inside strings, valid escapes and numbers; bytes are not checked to be UTF-8). A record that is not
/// valid JSON, or nests deeper than `maxDepth`, is a bad record: the stage reports it to the pipeline's
/// `BadRecordLog` with the problem and where ("record '{bad' is not valid JSON: expected a key at byte 1")
/// and emits nothing, so it fails the task (`RecordPipeline.processChecked`) or, with
/// `--skip-bad-records`, is skipped and counted. No allocation per record: spans, candidate lists and the
/// output live in buffers the stage owns, and a failure is a typed error (`throws(JSONScanner.Failure)`),
/// which is never boxed (an untyped `throw` would allocate its box per bad record).
final class JSONStage: RecordStage {
    /// Containers nested deeper than this make a bad record (the scanner recurses).
    static let maxDepth = 512  // the failure text says 512

    /// Each path's components in flat tables the stage owns (no retain or release per key compared):
    /// component `level` of path `p` is slot `p * levels + level`, its bytes `componentBytes[start ..<
    /// start + length]`, its array index `componentIndex` (-1: not an index); `pathLength[p]` components.
    private let componentBytes: UnsafeMutablePointer<UInt8>
    private let componentStart: UnsafeMutablePointer<Int>
    private let componentLength: UnsafeMutablePointer<Int>
    private let componentIndex: UnsafeMutablePointer<Int>
    private let pathLength: UnsafeMutablePointer<Int>
    private let pathCount: Int
    /// The longest path's length: candidates are tracked to this depth only.
    private let levels: Int
    /// Where each path's value lies in the record (-1: missing), reset per record.
    private let spanStart: UnsafeMutablePointer<Int>
    private let spanEnd: UnsafeMutablePointer<Int>
    /// Per level, the paths that may still match below the current container (`pathCount` slots each):
    /// from the front those that go deeper, from the back those that end at the current key.
    private let candidates: UnsafeMutablePointer<Int>
    private let out = ScratchBuffer()
    private let keyBuffer = ScratchBuffer(capacity: 64)
    private let log: BadRecordLog

    init(_ paths: [[String]], log: BadRecordLog) {
        self.log = log
        let components = paths.map { $0.map { Array($0.utf8) } }
        pathCount = paths.count
        levels = paths.map(\.count).max() ?? 0
        let slots = Swift.max(pathCount, 1)
        let componentSlots = Swift.max(pathCount * levels, 1)
        componentBytes = .allocate(capacity: Swift.max(components.joined().map(\.count).reduce(0, +), 1))
        componentStart = .allocate(capacity: componentSlots)
        componentLength = .allocate(capacity: componentSlots)
        componentIndex = .allocate(capacity: componentSlots)
        pathLength = .allocate(capacity: slots)
        var offset = 0
        for p in 0..<pathCount {
            pathLength[p] = components[p].count
            for (level, component) in components[p].enumerated() {
                let slot = p * levels + level
                componentStart[slot] = offset
                componentLength[slot] = component.count
                componentIndex[slot] = JSONStage.arrayIndex(component)
                for b in component {
                    componentBytes[offset] = b
                    offset += 1
                }
            }
        }
        spanStart = .allocate(capacity: slots)
        spanEnd = .allocate(capacity: slots)
        candidates = .allocate(capacity: slots * (levels + 1))
        var top = 0
        for p in 0..<pathCount where pathLength[p] > 0 {
            candidates[top] = p
            top += 1
        }
        topCandidates = top
    }

    /// The paths of at least one component (in `candidates[0 ..< topCandidates]`).
    private let topCandidates: Int

    deinit {
        spanStart.deallocate()
        spanEnd.deallocate()
        candidates.deallocate()
        componentBytes.deallocate()
        componentStart.deallocate()
        componentLength.deallocate()
        componentIndex.deallocate()
        pathLength.deallocate()
    }

    /// A component's array index: a non-negative decimal without leading zeros, else -1.
    static func arrayIndex(_ component: [UInt8]) -> Int {
        guard !component.isEmpty, component.count <= 18, component.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return -1 }
        if component.count > 1 && component[0] == 0x30 { return -1 }
        return component.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        for p in 0..<pathCount {
            spanStart[p] = -1
            spanEnd[p] = -1
        }
        guard let base = record.baseAddress, record.count > 0 else {
            if !log.skip() { log.fail("an empty record is not valid JSON") }
            return
        }
        var scanner = JSONScanner(src: base.assumingMemoryBound(to: UInt8.self), n: record.count)
        // Typed throws: a bad record's failure is not boxed.
        do throws(JSONScanner.Failure) {
            scanner.skipWhitespace()
            guard scanner.i < scanner.n, scanner.src[scanner.i] == 0x7B else {
                throw JSONScanner.Failure(scanner.i < scanner.n ? "not a JSON object" : "only whitespace", scanner.i)
            }
            let objectStart = scanner.i
            try object(&scanner, level: 0, count: topCandidates, depth: 1)
            for p in 0..<pathCount where pathLength[p] == 0 {
                spanStart[p] = objectStart
                spanEnd[p] = scanner.i
            }
            scanner.skipWhitespace()
            if scanner.i < scanner.n { throw JSONScanner.Failure("bytes after the object", scanner.i) }
        } catch {
            if !log.skip() {
                log.fail("record '\(MapCollector.excerpt(record))' is not valid JSON: \(error.reason) at byte \(error.position)")
            }
            return
        }
        out.removeAll()
        for p in 0..<pathCount {
            if p > 0 { out.append(0x09) }
            let start = spanStart[p]
            if start >= 0 { render(scanner.src, start, spanEnd[p]) }
        }
        try next(out.bytes)
    }

    // MARK: scanning

    /// The value at the scanner's position (after whitespace). `count` candidates at `level` may match
    /// inside it (0: it is only validated).
    private func value(_ s: inout JSONScanner, level: Int, count: Int, depth: Int) throws(JSONScanner.Failure) {
        s.skipWhitespace()
        guard s.i < s.n else { throw JSONScanner.Failure("truncated", s.i) }
        switch s.src[s.i] {
        case 0x7B: try object(&s, level: level, count: count, depth: depth + 1)
        case 0x5B: try array(&s, level: level, count: count, depth: depth + 1)
        case 0x22: _ = try s.string()
        case 0x74: try s.literal("true")
        case 0x66: try s.literal("false")
        case 0x6E: try s.literal("null")
        case 0x2D, 0x30...0x39: try s.number()
        default: throw JSONScanner.Failure("unexpected byte", s.i)
        }
    }

    /// An object at `{`; `count` candidates in `candidates` at `level`.
    private func object(_ s: inout JSONScanner, level: Int, count: Int, depth: Int) throws(JSONScanner.Failure) {
        if depth > JSONStage.maxDepth { throw JSONScanner.Failure("nested more than 512 levels", s.i) }
        s.i += 1
        s.skipWhitespace()
        if s.i < s.n && s.src[s.i] == 0x7D {
            s.i += 1
            return
        }
        while true {
            guard s.i < s.n else { throw JSONScanner.Failure("truncated", s.i) }
            guard s.src[s.i] == 0x22 else { throw JSONScanner.Failure("expected a key", s.i) }
            let keyStart = s.i
            let escaped = try s.string()
            let keyEnd = s.i
            s.skipWhitespace()
            guard s.i < s.n else { throw JSONScanner.Failure("truncated", s.i) }
            guard s.src[s.i] == 0x3A else { throw JSONScanner.Failure("expected ':'", s.i) }
            s.i += 1
            if count > 0 {
                let key: UnsafeRawBufferPointer
                if escaped {
                    keyBuffer.removeAll()
                    JSONText.unescape(s.src, keyStart + 1, keyEnd - 1, into: keyBuffer, escapeControls: false)
                    key = keyBuffer.bytes
                } else {
                    key = UnsafeRawBufferPointer(start: s.src + keyStart + 1, count: keyEnd - keyStart - 2)
                }
                try member(&s, level: level, count: count, depth: depth, key: key, index: -1)
            } else {
                try value(&s, level: level, count: 0, depth: depth)
            }
            s.skipWhitespace()
            guard s.i < s.n else { throw JSONScanner.Failure("truncated", s.i) }
            let b = s.src[s.i]
            s.i += 1
            if b == 0x2C {
                s.skipWhitespace()
                continue
            }
            if b == 0x7D { return }
            throw JSONScanner.Failure("expected ',' or '}'", s.i - 1)
        }
    }

    /// An array at `[`.
    private func array(_ s: inout JSONScanner, level: Int, count: Int, depth: Int) throws(JSONScanner.Failure) {
        if depth > JSONStage.maxDepth { throw JSONScanner.Failure("nested more than 512 levels", s.i) }
        s.i += 1
        s.skipWhitespace()
        if s.i < s.n && s.src[s.i] == 0x5D {
            s.i += 1
            return
        }
        var index = 0
        while true {
            if count > 0 {
                try member(&s, level: level, count: count, depth: depth, key: nil, index: index)
            } else {
                try value(&s, level: level, count: 0, depth: depth)
            }
            s.skipWhitespace()
            guard s.i < s.n else { throw JSONScanner.Failure("truncated", s.i) }
            let b = s.src[s.i]
            s.i += 1
            if b == 0x2C {
                index += 1
                continue
            }
            if b == 0x5D { return }
            throw JSONScanner.Failure("expected ',' or ']'", s.i - 1)
        }
    }

    /// The value of a member (object key or array element) that matches some of the candidates (by `key`
    /// when given, else by array `index`): paths that end here get its span, paths that go on are looked
    /// for inside it. Every matching path's span is reset first, so that the last of duplicate keys counts.
    /// (No closure for the match: its context would retain and release the stage per member.)
    @inline(__always)
    private func member(
        _ s: inout JSONScanner, level: Int, count: Int, depth: Int, key: UnsafeRawBufferPointer?, index: Int
    ) throws(JSONScanner.Failure) {
        let here = candidates + level * pathCount
        var deeper = 0
        var ending = 0
        if level + 1 <= levels {
            let below = candidates + (level + 1) * pathCount
            for k in 0..<count {
                let p = here[k]
                let slot = p * levels + level
                if let key {
                    let component = UnsafeRawBufferPointer(
                        start: componentBytes + componentStart[slot], count: componentLength[slot])
                    guard Bytes.equal(key, component) else { continue }
                } else {
                    guard componentIndex[slot] == index else { continue }
                }
                spanStart[p] = -1
                spanEnd[p] = -1
                if pathLength[p] == level + 1 {
                    ending += 1
                    below[pathCount - ending] = p
                } else {
                    below[deeper] = p
                    deeper += 1
                }
            }
        }
        s.skipWhitespace()
        let start = s.i
        try value(&s, level: level + 1, count: deeper, depth: depth)
        if ending > 0 {
            let below = candidates + (level + 1) * pathCount
            for k in 1...ending {
                let p = below[pathCount - k]
                spanStart[p] = start
                spanEnd[p] = s.i
            }
        }
    }

    // MARK: output

    /// Appends the text of the value at `src[start ..< end]` to `out`.
    private func render(_ src: UnsafePointer<UInt8>, _ start: Int, _ end: Int) {
        switch src[start] {
        case 0x22:
            JSONText.unescape(src, start + 1, end - 1, into: out, escapeControls: true)
        case 0x6E:
            break  // null
        case 0x7B, 0x5B:
            JSONText.compact(src, start, end, into: out)
        default:
            out.append(UnsafeRawBufferPointer(start: src + start, count: end - start))
        }
    }
}

/// A position in one JSON record and the token rules (validation only; `JSONStage` decides what to keep).
struct JSONScanner {
    struct Failure: Error {
        let reason: StaticString
        let position: Int
        init(_ reason: StaticString, _ position: Int) {
            self.reason = reason
            self.position = position
        }
    }

    let src: UnsafePointer<UInt8>
    let n: Int
    var i = 0

    @inline(__always)
    mutating func skipWhitespace() {
        while i < n {
            let b = src[i]
            guard b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D else { return }
            i += 1
        }
    }

    /// A string at `"`, to after its closing quote; returns whether it holds an escape.
    mutating func string() throws(Failure) -> Bool {
        i += 1
        var escaped = false
        while true {
            // To the next `"`, `\` or control byte (the byte loop below decides): the first eight bytes as
            // one word (keys and short values end there), the rest by the SIMD scan.
            if i + 8 <= n {
                let word = UInt64(littleEndian: UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self))
                let special = JSONScanner.specialBytes(word)
                if special != 0 {
                    i += special.trailingZeroBitCount >> 3
                } else {
                    i += 8
                    i += mrsh_json_string_scan(src + i, n - i)
                }
            }
            guard i < n else { break }
            let b = src[i]
            if b == 0x22 {
                i += 1
                return escaped
            }
            if b == 0x5C {
                escaped = true
                guard i + 1 < n else { break }
                switch src[i + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    i += 2
                case 0x75:
                    guard i + 6 <= n else { throw Failure("truncated \\u escape", i) }
                    for k in 2..<6 where JSONText.hexValue(src[i + k]) < 0 {
                        throw Failure("bad \\u escape", i)
                    }
                    i += 6
                default:
                    throw Failure("bad escape", i)
                }
                continue
            }
            if b < 0x20 { throw Failure("control byte in a string", i) }
            i += 1
        }
        throw Failure("unterminated string", n)
    }

    /// The high bit of each byte of `word` (little-endian) that is `"`, `\` or below 0x20, exact up to and
    /// including the lowest flagged byte (a borrow can flag bytes above a flagged one; bytes from 0x80 up
    /// are never flagged on their own).
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ 0x2222_2222_2222_2222
        let backslash = word ^ 0x5C5C_5C5C_5C5C_5C5C
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (word &- 0x2020_2020_2020_2020) & ~word
        return (zeroQuote | zeroBackslash | control) & 0x8080_8080_8080_8080
    }

    mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard i + count <= n, memcmp(src + i, word.utf8Start, count) == 0 else {
            throw Failure("unexpected byte", i)
        }
        i += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    mutating func number() throws(Failure) {
        let start = i
        if src[i] == 0x2D { i += 1 }
        guard i < n else { throw Failure("truncated number", start) }
        if src[i] == 0x30 {
            i += 1
        } else if src[i] >= 0x31 && src[i] <= 0x39 {
            while i < n && src[i] >= 0x30 && src[i] <= 0x39 { i += 1 }
        } else {
            throw Failure("bad number", start)
        }
        if i < n && src[i] == 0x2E {
            i += 1
            let digits = i
            while i < n && src[i] >= 0x30 && src[i] <= 0x39 { i += 1 }
            if i == digits { throw Failure("bad number", start) }
        }
        if i < n && (src[i] == 0x65 || src[i] == 0x45) {
            i += 1
            if i < n && (src[i] == 0x2B || src[i] == 0x2D) { i += 1 }
            let digits = i
            while i < n && src[i] >= 0x30 && src[i] <= 0x39 { i += 1 }
            if i == digits { throw Failure("bad number", start) }
        }
    }
}

/// Writing validated JSON text.
enum JSONText {
    @inline(__always)
    static func hexValue(_ b: UInt8) -> Int {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return -1
        }
    }

    /// The code unit of the (validated) `\uXXXX` whose `u` is at `src[at]`.
    @inline(__always)
    static func codeUnit(_ src: UnsafePointer<UInt8>, _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for k in 1...4 { value = value << 4 | UInt32(hexValue(src[at + k])) }
        return value
    }

    /// Appends the unescaped bytes of the (validated) string contents `src[start ..< end]`; with
    /// `escapeControls`, TAB, LF and CR as `\t`, `\n`, `\r`. The output is never longer than the input.
    static func unescape(
        _ src: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into out: ScratchBuffer, escapeControls: Bool
    ) {
        let dst = out.reserve(end - start).assumingMemoryBound(to: UInt8.self)
        var w = 0
        var i = start
        while i < end {
            let b = src[i]
            if b != 0x5C {
                dst[w] = b
                w += 1
                i += 1
                continue
            }
            let e = src[i + 1]
            i += 2
            var byte: UInt8
            switch e {
            case 0x62: byte = 0x08
            case 0x66: byte = 0x0C
            case 0x6E: byte = 0x0A
            case 0x72: byte = 0x0D
            case 0x74: byte = 0x09
            case 0x75:
                var scalar = codeUnit(src, i - 1)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    // A high surrogate: a pair with the low surrogate of a following \uXXXX, else U+FFFD.
                    if i + 6 <= end && src[i] == 0x5C && src[i + 1] == 0x75 {
                        let low = codeUnit(src, i + 1)
                        if low >= 0xDC00 && low <= 0xDFFF {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                        } else {
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    scalar = 0xFFFD
                }
                if scalar < 0x80 {
                    byte = UInt8(scalar)
                } else {
                    if scalar < 0x800 {
                        dst[w] = UInt8(0xC0 | scalar >> 6)
                        dst[w + 1] = UInt8(0x80 | scalar & 0x3F)
                        w += 2
                    } else if scalar < 0x10000 {
                        dst[w] = UInt8(0xE0 | scalar >> 12)
                        dst[w + 1] = UInt8(0x80 | scalar >> 6 & 0x3F)
                        dst[w + 2] = UInt8(0x80 | scalar & 0x3F)
                        w += 3
                    } else {
                        dst[w] = UInt8(0xF0 | scalar >> 18)
                        dst[w + 1] = UInt8(0x80 | scalar >> 12 & 0x3F)
                        dst[w + 2] = UInt8(0x80 | scalar >> 6 & 0x3F)
                        dst[w + 3] = UInt8(0x80 | scalar & 0x3F)
                        w += 4
                    }
                    continue
                }
            default: byte = e  // \" \\ \/
            }
            // An escape is at least two input bytes, and an escaped control two output bytes.
            CSVParser.put(byte, dst, &w, escapeControls)
        }
        out.commit(w)
    }

    /// Appends the (validated) object or array `src[start ..< end]` without whitespace outside strings.
    static func compact(_ src: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into out: ScratchBuffer) {
        let dst = out.reserve(end - start).assumingMemoryBound(to: UInt8.self)
        var w = 0
        var i = start
        var inString = false
        while i < end {
            let b = src[i]
            i += 1
            if inString {
                dst[w] = b
                w += 1
                if b == 0x5C {
                    dst[w] = src[i]
                    w += 1
                    i += 1
                } else if b == 0x22 {
                    inString = false
                }
                continue
            }
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D:
                continue
            case 0x22:
                inString = true
            default:
                break
            }
            dst[w] = b
            w += 1
        }
        out.commit(w)
    }
}

import MrshDataPath

/// How records are written: the shell's aligned table, or one of the streaming formats of `:mode` and
/// `--format` (`tsv`, the records as they are; `csv`, RFC 4180; `json`, JSON Lines; `markdown`, a pipe table).
public enum OutputFormat: String, Sendable, CaseIterable, Hashable {
    case table, tsv, csv, json, markdown

    /// The formats a script (`-e`, `run`) can write: every one but the shell's table.
    public static let streaming: [OutputFormat] = [.tsv, .csv, .json, .markdown]
}

/// Converts records (`field<TAB>field...` lines) into an `OutputFormat`, as they stream: whole records
/// in, formatted bytes out; a record cut between two chunks waits for the rest.
///
/// Field names: `fieldNames` when the script named its fields (a later version of the language), else
/// `f1`, `f2`, ... by position. CSV writes a header row only for named fields; markdown always has one.
/// In JSON a field that parses fully as a number (as the engine's `NumericValue` reads numbers, so as
/// `reduce sum` and `sort by value` see it) is a JSON number; every other field is a string.
public struct RecordFormatter: Sendable {
    public let format: OutputFormat
    public let fieldNames: [String]?
    private var pending: [UInt8] = []
    private var headerWritten = false

    public init(format: OutputFormat, fieldNames: [String]? = nil) {
        self.format = format
        self.fieldNames = fieldNames
    }

    /// The name of field `index` (from 0).
    public func name(ofField index: Int) -> String {
        if let fieldNames, index < fieldNames.count { return fieldNames[index] }
        return "f\(index + 1)"
    }

    /// Formats the complete records of `bytes` onto `out`.
    public mutating func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if format == .tsv || format == .table {
            out.append(contentsOf: bytes)
            return
        }
        var start = 0
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
            if pending.isEmpty {
                formatRecord(UnsafeRawBufferPointer(rebasing: bytes[start..<i]), to: &out)
            } else {
                pending.append(contentsOf: bytes[start..<i])
                let line = pending
                pending.removeAll(keepingCapacity: true)
                line.withUnsafeBytes { formatRecord($0, to: &out) }
            }
            start = i + 1
        }
        if start < bytes.count { pending.append(contentsOf: bytes[start...]) }
    }

    /// Formats a last record that had no newline.
    public mutating func finish(to out: inout [UInt8]) {
        guard !pending.isEmpty else { return }
        let line = pending
        pending.removeAll()
        line.withUnsafeBytes { formatRecord($0, to: &out) }
    }

    /// Formats `text` (records) at once, for tests and small results.
    public static func render(_ text: String, format: OutputFormat, fieldNames: [String]? = nil) -> String {
        var formatter = RecordFormatter(format: format, fieldNames: fieldNames)
        var out: [UInt8] = []
        var copy = text
        copy.withUTF8 { formatter.append(UnsafeRawBufferPointer($0), to: &out) }
        formatter.finish(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func formatRecord(_ line: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
        switch format {
        case .table, .tsv:
            out.append(contentsOf: line)
            out.append(UInt8(ascii: "\n"))
        case .csv:
            if !headerWritten, let fieldNames {
                headerWritten = true
                Self.csvRow(fieldNames.map { Array($0.utf8)[...] }, to: &out)
            }
            Self.csvRow(fields.map { Array($0)[...] }, to: &out)
        case .json:
            out.append(UInt8(ascii: "{"))
            for (i, field) in fields.enumerated() {
                if i > 0 { out.append(contentsOf: ", ".utf8) }
                Self.jsonString(Array(name(ofField: i).utf8)[...], to: &out)
                out.append(contentsOf: ": ".utf8)
                Self.jsonValue(UnsafeRawBufferPointer(rebasing: field), to: &out)
            }
            out.append(contentsOf: "}\n".utf8)
        case .markdown:
            if !headerWritten {
                headerWritten = true
                let count = max(fields.count, fieldNames?.count ?? 0)
                let names = (0..<count).map { Array(name(ofField: $0).utf8)[...] }
                Self.markdownRow(names, to: &out)
                out.append(contentsOf: "|".utf8)
                for _ in 0..<count { out.append(contentsOf: " --- |".utf8) }
                out.append(UInt8(ascii: "\n"))
            }
            Self.markdownRow(fields.map { Array($0)[...] }, to: &out)
        }
    }

    // MARK: - CSV (RFC 4180)

    /// Fields joined by `,` and ended by CRLF; a field holding `,`, `"`, CR or LF is quoted with its quotes
    /// doubled. A record of one empty field is written `""`, so that it is not read back as an empty line.
    static func csvRow(_ fields: [ArraySlice<UInt8>], to out: inout [UInt8]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            let special = field.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0D || $0 == 0x0A }
            if special || (fields.count == 1 && field.isEmpty) {
                out.append(UInt8(ascii: "\""))
                for byte in field {
                    if byte == UInt8(ascii: "\"") { out.append(byte) }
                    out.append(byte)
                }
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(contentsOf: field)
            }
        }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    // MARK: - JSON

    /// A number as JSON writes it, when `field` is one for the engine: as written when that is already JSON's
    /// grammar, else normalised (`+5` is 5, `.5` is 0.5, `007` is 7); every other field is a string.
    static func jsonValue(_ field: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if let number = NumericValue.parse(field) {
            if isJSONNumber(field) {
                out.append(contentsOf: field)
                return
            }
            switch number {
            case .integer(let value):
                out.append(contentsOf: String(value).utf8)
                return
            case .decimal(let value) where value.isFinite:
                out.append(contentsOf: "\(value)".utf8)
                return
            case .decimal:
                break  // too large for a double: keep the text
            }
        }
        jsonString(field[...], to: &out)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    static func isJSONNumber(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        func digits() -> Int {
            let start = i
            while i < n, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - start
        }
        if i < n, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n else { return false }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            return false
        }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            if digits() == 0 { return false }
        }
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits() == 0 { return false }
        }
        return i == n
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\uXXXX`, bytes that are not UTF-8 as U+FFFD.
    static func jsonString<C: Collection<UInt8>>(_ bytes: C, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let text = String(decoding: bytes, as: UTF8.self)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20, 0x7F:
                let hex = String(byte, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: - Markdown

    /// `| a | b |`, with `|` and `\` escaped so that a cell cannot end early.
    static func markdownRow(_ fields: [ArraySlice<UInt8>], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "|"))
        for field in fields {
            out.append(UInt8(ascii: " "))
            for byte in field {
                if byte == UInt8(ascii: "|") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(contentsOf: " |".utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }
}

/// A sink told the names of the fields of the records that follow (each statement's, before its records).
public protocol FieldNamedSink: AnyObject {
    func beginRecords(fieldNames: [String]?)
}

/// A record sink that writes its records in an `OutputFormat` to another sink (the CLI's standard output).
public final class FormattingSink: RecordSink, FieldNamedSink {
    private var formatter: RecordFormatter
    private let base: StandardOutputSink
    private var buffer: [UInt8] = []

    public init(format: OutputFormat, base: StandardOutputSink) {
        formatter = RecordFormatter(format: format)
        self.base = base
    }

    /// A new statement's records follow: CSV writes its header (when the fields are named), JSON uses the
    /// names as keys. What the last statement still owed is written first.
    public func beginRecords(fieldNames: [String]?) {
        buffer.removeAll(keepingCapacity: true)
        formatter.finish(to: &buffer)
        if !buffer.isEmpty { buffer.withUnsafeBytes { try? base.write($0) } }
        formatter = RecordFormatter(format: formatter.format, fieldNames: fieldNames)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if formatter.format == .tsv {
            try base.write(bytes)
            return
        }
        buffer.removeAll(keepingCapacity: true)
        formatter.append(bytes, to: &buffer)
        try buffer.withUnsafeBytes { try base.write($0) }
    }

    public func awaitCapacity() async throws {
        try await base.awaitCapacity()
    }

    /// Writes what the format still owes (a last record without its newline), then waits until the base
    /// sink has written everything.
    public func finish() async throws {
        buffer.removeAll(keepingCapacity: true)
        formatter.finish(to: &buffer)
        if !buffer.isEmpty { try buffer.withUnsafeBytes { try base.write($0) } }
        try await base.finish()
    }

    /// Drops what was not written (a cancelled run).
    public func abandon() {
        base.abandon()
    }
}

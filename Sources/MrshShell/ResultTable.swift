#if canImport(Glibc)
import Glibc
#endif

/// The records of one statement as shown on a terminal: the first `limit` rows kept, the rest counted.
///
/// Records are `field<TAB>field...` lines. Rendering aligns columns by display width, right-aligns
/// numeric columns, fits the last column to the terminal width, and ends with a row count and a note
/// of how many rows were left out.
public struct ResultTable: Sendable {
    public let limit: Int
    public private(set) var rows: [[String]] = []
    public private(set) var totalRows = 0
    /// A record cut between two `records` calls.
    private var pending: [UInt8] = []

    public init(limit: Int) { self.limit = max(0, limit) }

    /// Adds complete or partial records (a partial last line waits for the next call or `finish`).
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start) {
            let i = base.distance(to: UnsafeRawPointer(found))
            defer { start = i + 1 }
            if rows.count >= limit && pending.isEmpty {
                totalRows += 1  // past the limit: only count
                continue
            }
            if pending.isEmpty {
                addRow(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            } else {
                pending.append(contentsOf: bytes[start..<i])
                let line = pending
                pending.removeAll(keepingCapacity: true)
                line.withUnsafeBytes { addRow($0) }
            }
        }
        if start < bytes.count { pending.append(contentsOf: bytes[start...]) }
    }

    /// Adds one record given as text (without its newline).
    public mutating func append(line: String) {
        var copy = line
        copy.withUTF8 { addRow(UnsafeRawBufferPointer($0)) }
    }

    /// Flushes a last record that had no newline.
    public mutating func finish() {
        guard !pending.isEmpty else { return }
        let line = pending
        pending.removeAll()
        line.withUnsafeBytes { addRow($0) }
    }

    private mutating func addRow(_ line: UnsafeRawBufferPointer) {
        totalRows += 1
        guard rows.count < limit else { return }
        rows.append(line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map(Self.cell))
    }

    /// Cell text with control characters made visible, so a record cannot move the cursor.
    private static func cell(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: bytes.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }

    /// The aligned rows, each ended by `\n` (no footer). `width` is the terminal's, if known.
    /// - Parameter header: column titles, shown first (styled by `style`) and counted in the widths.
    public func renderRows(width: Int? = nil, header: [String]? = nil, headerStyle: (String) -> String = { $0 }) -> String {
        guard !rows.isEmpty || header != nil else { return "" }
        let columnCount = max(rows.map(\.count).max() ?? 0, header?.count ?? 0)
        var widths = [Int](repeating: 0, count: columnCount)
        var numeric = [Bool](repeating: true, count: columnCount)
        for row in rows {
            for (c, cell) in row.enumerated() {
                widths[c] = max(widths[c], DisplayWidth.of(cell))
                if !cell.isEmpty, !Self.isNumber(cell) { numeric[c] = false }
            }
        }
        let gutter = 2
        if let width, columnCount > 0 {
            // Fit the last column to the terminal when the others leave it room.
            let others = widths.dropLast().reduce(0, +) + gutter * (columnCount - 1)
            let room = width - others - 1
            if room >= 8 { widths[columnCount - 1] = min(widths[columnCount - 1], room) }
        }
        if let header {
            for (c, title) in header.enumerated() { widths[c] = max(widths[c], DisplayWidth.of(title)) }
        }
        var out = ""
        if let header {
            var line = ""
            for c in 0..<columnCount {
                let title = c < header.count ? header[c] : ""
                let pad = String(repeating: " ", count: max(0, widths[c] - DisplayWidth.of(title)))
                if c > 0 { line += String(repeating: " ", count: gutter) }
                line += numeric[c] ? pad + title : (c == columnCount - 1 ? title : title + pad)
            }
            out += headerStyle(line) + "\n"
        }
        for row in rows {
            var line = ""
            for c in 0..<columnCount {
                var cell = c < row.count ? row[c] : ""
                if DisplayWidth.of(cell) > widths[c] { cell = DisplayWidth.truncate(cell, to: widths[c]) }
                let pad = String(repeating: " ", count: widths[c] - DisplayWidth.of(cell))
                let isLast = c == columnCount - 1
                if c > 0 { line += String(repeating: " ", count: gutter) }
                if numeric[c] { line += pad + cell } else { line += isLast ? cell : cell + pad }
            }
            out += line + "\n"
        }
        return out
    }

    /// `12 rows`, or `40 of 1,234 rows shown (1,194 more; :set limit N to see more)`.
    public var footer: String {
        let noun = totalRows == 1 ? "row" : "rows"
        if totalRows > rows.count {
            let hidden = totalRows - rows.count
            return "\(Self.grouped(rows.count)) of \(Self.grouped(totalRows)) \(noun) shown, "
                + "\(Self.grouped(hidden)) left out (:set limit N to show more)"
        }
        return "\(Self.grouped(totalRows)) \(noun)"
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return n < 0 ? "-" + out : out
    }

    /// An integer or decimal number, optionally signed, optionally with an exponent.
    static func isNumber(_ text: String) -> Bool {
        var utf8 = Substring(text).utf8[...]
        if utf8.first == UInt8(ascii: "-") || utf8.first == UInt8(ascii: "+") { utf8 = utf8.dropFirst() }
        guard let first = utf8.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) || first == UInt8(ascii: ".") else {
            return false
        }
        return Double(text) != nil && !text.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" })
    }
}

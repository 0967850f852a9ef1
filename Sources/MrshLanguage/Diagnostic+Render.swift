extension Diagnostic {
    /// Spaces a tab is shown as, in the source line and when placing the caret.
    static let tabWidth = 4

    /// The diagnostic in rustc's shape, without a trailing newline:
    /// ```
    /// error: unknown operator 'mapp'
    ///  --> job.mr:2:14
    ///   |
    /// 2 |   read "x" | mapp words
    ///   |              ^^^^
    ///   = help: did you mean 'map'?
    /// ```
    /// The caret runs under the range on its first line (at least one `^`); tabs become spaces in both lines.
    public func render(source: String, fileName: String, useColor: Bool = false) -> String {
        render(lineText: Self.line(range.start.line, of: source), fileName: fileName, useColor: useColor)
    }

    /// `render(source:fileName:useColor:)` given the text of the range's first line (callers rendering many
    /// diagnostics of one source find the lines once, rather than scanning the source per diagnostic).
    func render(lineText: Substring, fileName: String, useColor: Bool) -> String {
        let style = Style(enabled: useColor)
        let lineNumber = String(range.start.line)
        let pad = String(repeating: " ", count: lineNumber.count)
        let (shown, caretStart, caretWidth) = Self.layout(
            lineText, startColumn: range.start.column,
            endColumn: range.end.line == range.start.line ? range.end.column : Int.max)
        let severityColor = severity == .error ? style.red : style.yellow
        var out: [String] = []
        out.append(style.bold(severityColor(severity.rawValue)) + style.bold(": " + message))
        out.append(pad + style.blue("-->") + " \(fileName):\(range.start.line):\(range.start.column)")
        out.append(pad + " " + style.blue("|"))
        out.append(style.blue(lineNumber + " |") + (shown.isEmpty ? "" : " " + shown))
        out.append(
            pad + " " + style.blue("|") + " " + String(repeating: " ", count: caretStart)
                + style.bold(severityColor(String(repeating: "^", count: caretWidth))))
        if let help { out.append(pad + " " + style.blue("=") + " " + style.bold("help") + ": " + help) }
        if let note { out.append(pad + " " + style.blue("=") + " " + style.bold("note") + ": " + note) }
        return out.joined(separator: "\n")
    }

    /// The text of every line of `source`, without line breaks: `lines(of: s)[n - 1] == line(n, of: s)`.
    static func lines(of source: String) -> [Substring] {
        var lines: [Substring] = []
        var start = source.startIndex
        var index = source.startIndex
        let utf8 = source.utf8
        while index < utf8.endIndex {
            if utf8[index] == UInt8(ascii: "\n") {
                lines.append(source[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        lines.append(source[start...])
        return lines
    }

    /// The text of 1-based line `number` without its line break (empty past the end).
    static func line(_ number: Int, of source: String) -> Substring {
        var current = 1
        var start = source.startIndex
        var index = source.startIndex
        let utf8 = source.utf8
        while index < utf8.endIndex {
            if utf8[index] == UInt8(ascii: "\n") {
                if current == number { return source[start..<index] }
                current += 1
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        return current == number ? source[start...] : ""
    }

    /// The line as shown (tabs expanded, `\r` dropped, other control characters as `?`), with the display
    /// column where the caret starts and how many carets (>= 1) cover columns `startColumn..<endColumn`.
    static func layout(_ line: Substring, startColumn: Int, endColumn: Int) -> (String, Int, Int) {
        var shown = String.UnicodeScalarView()
        var caretStart: Int?
        var caretEnd: Int?
        var width = 0
        var column = 1
        let count = line.unicodeScalars.count
        for scalar in line.unicodeScalars {
            if column == startColumn { caretStart = width }
            if column == endColumn { caretEnd = width }
            if scalar == "\t" {
                shown.append(contentsOf: String(repeating: " ", count: tabWidth).unicodeScalars)
                width += tabWidth
            } else if scalar == "\r" && column == count {
                // A Windows line ending: not shown.
            } else if scalar.properties.generalCategory == .control {
                shown.append("?")
                width += 1
            } else {
                shown.append(scalar)
                width += 1
            }
            column += 1
        }
        let start = caretStart ?? width
        let end = caretEnd ?? width
        return (String(shown), start, max(1, end - start))
    }
}

/// ANSI styling, or none.
private struct Style {
    let enabled: Bool
    func bold(_ s: String) -> String { wrap(s, "1") }
    func red(_ s: String) -> String { wrap(s, "31") }
    func yellow(_ s: String) -> String { wrap(s, "33") }
    func blue(_ s: String) -> String { wrap(s, "1;34") }
    private func wrap(_ s: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
}

/// A problem in a script: what is wrong, where, and optionally how to fix it.
///
/// Render it with `render(source:fileName:useColor:)`, which prints the rustc-like shape
/// `error: ...`, ` --> file:line:column`, the source line and a caret under the range.
public struct Diagnostic: Error, Sendable, Hashable {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var severity: Severity
    public var message: String
    /// The faulty text; an empty range points between two characters (shown as one caret).
    public var range: SourceRange
    /// A suggestion, rendered as `= help: ...`.
    public var help: String?
    /// Background, rendered as `= note: ...`.
    public var note: String?

    public init(
        _ message: String, range: SourceRange, help: String? = nil, note: String? = nil,
        severity: Severity = .error
    ) {
        self.severity = severity
        self.message = message
        self.range = range
        self.help = help
        self.note = note
    }
}

/// Every diagnostic of a script that did not parse, in source order.
public struct DiagnosticList: Error, Sendable, Hashable {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// Each diagnostic rendered, separated by a blank line. Linear in the source and the diagnostics: the
    /// source's lines are found once, not once per diagnostic.
    public func render(source: String, fileName: String, useColor: Bool = false) -> String {
        let lines = Diagnostic.lines(of: source)
        return diagnostics.map { diagnostic in
            let number = diagnostic.range.start.line
            let text = number >= 1 && number <= lines.count ? lines[number - 1] : ""
            return diagnostic.render(lineText: text, fileName: fileName, useColor: useColor)
        }
        .joined(separator: "\n\n")
    }
}

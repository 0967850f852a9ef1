import MrshLanguage

/// What the shell knows about the language, read from MrshLanguage's `OperatorCatalog` and
/// `StatementCompleteness`: the one adapter between the REPL and the language, so that `:help`,
/// completion and "did you mean" read one table.
enum ShellLanguage {
    /// One name of the language.
    struct Entry: Sendable, Hashable {
        var name: String
        /// True for pipeline stages, false for statement keywords (`let`, `explain`).
        var isStage: Bool
        var usage: String
        var summary: String
        /// Details and an example, for `:help NAME`.
        var help: String
        /// Words that may follow the name (`reduce` -> count, sum, ...).
        var keywords: [String]
    }

    enum Completeness: Sendable, Hashable { case complete, incomplete, empty }

    /// Every operator and statement keyword (reserved names left out).
    static let entries: [Entry] = OperatorCatalog.entries.compactMap { info in
        let isStage: Bool
        switch info.kind {
        case .stage: isStage = true
        case .statement: isStage = false
        case .reserved: return nil
        }
        return Entry(
            name: info.name, isStage: isStage, usage: info.usage, summary: info.summary,
            help: info.details + "\n\nExample:\n  " + info.example, keywords: info.keywords)
    }

    static func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The candidate nearest to `word` when it is a likely typo.
    static func nearest(to word: String, among candidates: [String]) -> String? {
        Suggestion.nearest(to: word, among: candidates)
    }

    /// Whether `source` is a complete statement: incomplete after a trailing `|`, inside a string or
    /// regex, or after `let NAME =`.
    static func completeness(of source: String) -> Completeness {
        switch StatementCompleteness(of: source) {
        case .complete: return .complete
        case .incomplete: return .incomplete
        case .empty: return .empty
        }
    }
}

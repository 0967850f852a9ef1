import MrshLanguage

/// What the shell shows of the language, read from MrshLanguage's `OperatorCatalog`, so that `:help`,
/// completion and "did you mean" read one table.
enum ShellLanguage {
    /// Every operator and statement keyword (reserved names left out).
    static let entries: [OperatorInfo] = OperatorCatalog.entries.filter { $0.kind != .reserved }

    static func entry(named name: String) -> OperatorInfo? { entries.first { $0.name == name } }
}

extension OperatorInfo {
    /// True for pipeline stages, false for statement keywords (`let`, `explain`).
    var isStage: Bool { kind == .stage }

    /// Details and an example, for `:help NAME`.
    var help: String { details + "\n\nExample:\n  " + example }
}

import Foundation
import MrshLanguage

/// Paths and helpers shared by the language tests.
enum TestSupport {
    /// The repository root, from this file's path (Tests/MrshLanguageTests/TestSupport.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Tests/MrshLanguageTests/Golden in the source tree.
    static let goldenDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("Golden")

    /// Token kinds of `source`, without the final end of input.
    static func kinds(_ source: String) -> [TokenKind] {
        Lexer.tokenize(source).map(\.kind).dropLast()
    }

    /// The stages' operators of the single statement of `source`, or nil with the rendered diagnostics.
    static func operators(_ source: String) -> [Operator]? {
        guard case .success(let script) = parseScript(source), script.statements.count == 1 else { return nil }
        switch script.statements[0] {
        case .run(let p), .explain(let p), .explainAnalyze(let p), .bind(_, _, let p): return p.stages.map(\.op)
        }
    }

    /// The diagnostics of `source` (empty when it parses).
    static func diagnostics(_ source: String, knownBindings: Set<String> = []) -> [Diagnostic] {
        switch parseScript(source, knownBindings: knownBindings) {
        case .success: return []
        case .failure(let list): return list.diagnostics
        }
    }
}

import Foundation
import MrshLanguage
import Testing

/// The examples in grammar/mrsh.ebnf, the catalog's examples and every examples/*.mr must parse.
@Suite struct GrammarExamplesTests {
    static let examplePrefix = "#   example: "

    @Test func grammarExamplesParse() throws {
        let url = TestSupport.repoRoot.appendingPathComponent("grammar/mrsh.ebnf")
        let grammar = try String(contentsOf: url, encoding: .utf8)
        let examples = grammar.split(separator: "\n").filter { $0.hasPrefix(Self.examplePrefix) }
            .map { String($0.dropFirst(Self.examplePrefix.count)) }
        #expect(examples.count >= 10)
        for example in examples {
            expectParses(example, name: "grammar example")
        }
    }

    @Test func catalogExamplesParse() {
        for entry in OperatorCatalog.entries where entry.kind != .reserved {
            expectParses(entry.example, name: "catalog example of \(entry.name)")
        }
    }

    /// The folder may be empty or missing: then there is nothing to check.
    @Test func exampleScriptsParse() throws {
        let folder = TestSupport.repoRoot.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names.sorted() where name.hasSuffix(".mr") {
            let source = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            expectParses(source, name: "examples/\(name)")
        }
    }

    private func expectParses(_ source: String, name: String) {
        if case .failure(let list) = parseScript(source) {
            Issue.record("\(name) does not parse:\n\(list.render(source: source, fileName: name))")
        }
    }
}

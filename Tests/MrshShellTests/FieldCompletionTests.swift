import MrshPlanner
import Testing
@testable import MrshShell

/// Tab completion inside expressions: the field names of the pipeline so far (as the planner knows them,
/// through `let` bindings too), functions with their `(`, aggregates and keywords.
@Suite struct FieldCompletionTests {
    func texts(_ line: String, planner: Planner = Planner()) -> [String] {
        let completer = Completer(fieldNames: { planner.fieldNames(afterPipeline: $0) })
        return completer.complete(line: line, cursor: line.utf8.count).candidates.map(\.text)
    }

    static let log = "read a.log | split as ip, path, status, bytes"

    @Test func fieldNamesAfterWhereSelectAndBy() {
        #expect(texts("\(Self.log) | where st") == ["startswith(", "status"])
        #expect(texts("\(Self.log) | where status >= 500 and pa") == ["path"])
        #expect(texts("\(Self.log) | select ") == ["as", "bytes", "ip", "path", "status"])
        #expect(texts("\(Self.log) | reduce count by st") == ["startswith(", "status"])
        #expect(texts("\(Self.log) | reduce count, sum(by") == ["sum(bytes"], "the word is replaced whole")
        #expect(texts("\(Self.log) | reduce count, ") == ["avg(", "collect(", "count(", "distinct(", "max(", "min(", "ndistinct(", "sum("])
        #expect(texts("\(Self.log) | top 3 by by") == ["bytes"])
        #expect(texts("\(Self.log) | top 3 ") == ["by"])
        #expect(texts("\(Self.log) | sort by ") == ["bytes", "ip", "key", "path", "record", "status", "value"])
    }

    @Test func namesMadeByEarlierStagesAndBindings() throws {
        #expect(texts("\(Self.log) | reduce count, sum(bytes) as total by status | where to") == ["total"])
        var planner = Planner()
        let script = try #require(try? parseBinding("let hits = \(Self.log)"))
        try planner.bind("hits", to: script)
        #expect(texts("hits | where i", planner: planner) == ["if(", "in", "int(", "ip"])
        #expect(texts("x = 1; \(Self.log) | where by") == ["bytes"], "after a ';' only the statement being typed counts")
    }

    @Test func noFieldsNoNames() {
        #expect(texts("read a.log | where ") == ["and", "in", "not", "or"])
    }
}

import MrshLanguage

/// The pipeline of `let NAME = PIPELINE`.
func parseBinding(_ source: String) throws -> Pipeline {
    guard case .success(let script) = parseScript(source), case .bind(_, _, let pipeline)? = script.statements.first else {
        throw CompletionTestError.notABinding
    }
    return pipeline
}

enum CompletionTestError: Error { case notABinding }

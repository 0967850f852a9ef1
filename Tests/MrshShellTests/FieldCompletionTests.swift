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

/// Tab completion of `join` and `union`: bindings, keywords, and the fields of each side.
@Suite struct JoinCompletionTests {
    @Test func joinOffersBindingsKeywordsAndEachSidesFields() throws {
        var planner = Planner()
        try planner.bind("users", to: try parseBinding("let users = read u.tsv | split as id, name"))
        let completer = Completer(bindings: ["users"], fieldNames: { [planner] in planner.fieldNames(afterPipeline: $0) })
        func texts(_ line: String) -> [String] {
            completer.complete(line: line, cursor: line.utf8.count).candidates.map(\.text)
        }
        let log = FieldCompletionTests.log
        #expect(texts("\(log) | join ") == ["left", "users"])
        #expect(texts("\(log) | join left u") == ["users"])
        #expect(texts("\(log) | join users ") == ["on"])
        #expect(texts("\(log) | join users on ") == ["bytes", "ip", "path", "status"], "the left side's fields")
        #expect(texts("\(log) | join users on ip = ") == ["id", "name"], "the binding's fields")
        #expect(texts("\(log) | join users on ip = id u") == ["using"])
        #expect(texts("\(log) | join users on ip = id using ") == ["broadcast", "shuffle"])
        #expect(texts("\(log) | union ") == ["users"])
    }
}

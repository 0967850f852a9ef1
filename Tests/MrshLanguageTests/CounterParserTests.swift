import Testing

@testable import MrshLanguage

/// `counter "NAME" [where EXPR]` and `explain analyze PIPELINE`.
@Suite struct CounterParserTests {
    @Test func counterStages() throws {
        let ops = try #require(TestSupport.operators(#"read x | counter "all" | split as a | counter "big" where a > 3 | count"#))
        #expect(ops.count == 5)
        #expect(ops[1] == .counter(name: "all", condition: nil))
        guard case .counter(let name, let condition?) = ops[3] else {
            Issue.record("expected a counter with a condition: \(ops[3])")
            return
        }
        #expect(name == "big")
        guard case .binary(.greater, _, _) = condition.kind else {
            Issue.record("expected a > comparison: \(condition.kind)")
            return
        }
    }

    @Test func counterMistakes() {
        #expect(TestSupport.diagnostics("read x | counter").first?.message.hasPrefix(#"expected a "name" after 'counter'"#) == true)
        #expect(TestSupport.diagnostics(#"read x | counter """#).map(\.message) == ["empty counter name"])
        #expect(TestSupport.diagnostics("read x | counter errors").first?.message.hasPrefix(#"expected a "name" after 'counter'"#) == true)
        #expect(!TestSupport.diagnostics(#"read x | counter "n" where"#).isEmpty)
        // A name is reserved once it is an operator.
        #expect(TestSupport.diagnostics("let counter = read x").first?.message == "'counter' is an operator and cannot name a binding")
    }

    @Test func explainAnalyze() throws {
        let script = try parseScript("explain analyze read x | count; explain read x | count").get()
        guard case .explainAnalyze(let analyzed) = script.statements[0] else {
            Issue.record("expected explain analyze: \(script.statements[0])")
            return
        }
        #expect(analyzed.stages.map(\.op) == [.read(paths: ["x"]), .count])
        guard case .explain = script.statements[1] else {
            Issue.record("expected explain")
            return
        }
        // A binding named analyze is still explained as one.
        let binding = try parseScript("explain analyze | count", knownBindings: ["analyze"]).get()
        guard case .explain(let explained) = binding.statements[0] else {
            Issue.record("expected explain of the binding analyze")
            return
        }
        #expect(explained.stages.map(\.op) == [.binding(name: "analyze"), .count])
        #expect(TestSupport.diagnostics("explain analyze").first?.message.contains("after 'explain analyze'") == true)
    }
}

import MrshLanguage
import Testing
@testable import MrshShell

@Suite struct CompletenessTests {
    @Test func trailingPipeStringsAndRegexes() {
        #expect(StatementCompleteness(of: "read x | count") == .complete)
        #expect(StatementCompleteness(of: "read x |") == .incomplete)
        #expect(StatementCompleteness(of: "read x |  # more to come") == .incomplete)
        #expect(StatementCompleteness(of: "read \"logs") == .incomplete)
        #expect(StatementCompleteness(of: "read x | grep /ab") == .incomplete)
        #expect(StatementCompleteness(of: "read x | grep /a|b/") == .complete)
        #expect(StatementCompleteness(of: "read logs/* | count") == .complete)
        #expect(StatementCompleteness(of: "let x =") == .incomplete)
        #expect(StatementCompleteness(of: "   ") == .empty)
        #expect(StatementCompleteness(of: "# just a comment") == .empty)
        #expect(StatementCompleteness(of: "read x |\n  map words") == .complete)
    }
}

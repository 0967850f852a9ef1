import Testing
@testable import MrshShell

@Suite struct CompletenessTests {
    @Test func trailingPipeStringsAndRegexes() {
        #expect(ShellLanguage.completeness(of: "read x | count") == .complete)
        #expect(ShellLanguage.completeness(of: "read x |") == .incomplete)
        #expect(ShellLanguage.completeness(of: "read x |  # more to come") == .incomplete)
        #expect(ShellLanguage.completeness(of: "read \"logs") == .incomplete)
        #expect(ShellLanguage.completeness(of: "read x | grep /ab") == .incomplete)
        #expect(ShellLanguage.completeness(of: "read x | grep /a|b/") == .complete)
        #expect(ShellLanguage.completeness(of: "read logs/* | count") == .complete)
        #expect(ShellLanguage.completeness(of: "let x =") == .incomplete)
        #expect(ShellLanguage.completeness(of: "   ") == .empty)
        #expect(ShellLanguage.completeness(of: "# just a comment") == .empty)
        #expect(ShellLanguage.completeness(of: "read x |\n  map words") == .complete)
    }
}

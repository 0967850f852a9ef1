import MrshLanguage
import Testing

@Suite struct CompletenessTests {
    @Test func classifies() {
        let cases: [(String, StatementCompleteness)] = [
            ("", .empty),
            ("  \n # just a comment\n", .empty),
            ("read x | count", .complete),
            ("read x | count;", .complete),
            ("read x |", .incomplete),
            ("read x |   # more to come\n", .incomplete),
            ("read \"logs", .incomplete),
            ("read \"a\nb", .incomplete),
            ("read x | grep /abc", .incomplete),
            ("read x | grep /abc  \n", .incomplete),
            ("read x | grep /abc\n| count", .complete),
            ("let x =", .incomplete),
            ("let x =  # then\n", .incomplete),
            ("let x = read y", .complete),
            ("x = y", .complete),
            ("read x | mapp", .complete),
        ]
        for (buffer, expected) in cases {
            #expect(StatementCompleteness(of: buffer) == expected, "\(buffer.debugDescription)")
        }
    }
}

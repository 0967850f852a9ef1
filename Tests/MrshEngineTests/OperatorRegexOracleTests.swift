#if canImport(Glibc)
import Glibc
import MrshDataPath
import MrshControl
import MrshPlan
import MrshTestSupport
import Testing

/// Compares `grep` and `extract` with regexes against glibc's regexec called directly on a
/// NUL-terminated copy (no prefilter, no REG_STARTEND), for random patterns and records.
@Suite struct OperatorRegexOracleTests {
    private static let tokens = ["a", "b", "ab", "ba", "aab", "x", "é", "(", ")", "|", "*", "+", "?", "+?", "{2}",
        "{1,}", "{12}", "12", "[ab]", "[^a]", "[]a]", "[[:alpha:]]", ".", "^", "$", "\\.", "\\b"]
    private static let recordPieces = ["a", "b", "ab", "x", ".", "é", "12", " "]

    private func oracleMatches(_ regex: UnsafePointer<regex_t>, _ record: String) -> Bool {
        regexec(regex, record, 0, nil, 0) == 0
    }

    @Test(arguments: [21, 22, 23])
    func grepAgreesWithRegexec(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        defer { regex.deallocate() }
        var compiled = 0
        for _ in 0..<400 {
            let pattern = (0..<Int.random(in: 1...6, using: &rng))
                .map { _ in Self.tokens[Int.random(in: 0..<Self.tokens.count, using: &rng)] }.joined()
            guard regcomp(regex, pattern, REG_EXTENDED | REG_NOSUB) == 0 else {
                #expect(throws: OperatorError.self) {
                    _ = try RecordPipeline([.grep(.regex(pattern, caseInsensitive: false), negated: false)])
                }
                continue
            }
            defer { regfree(regex) }
            compiled += 1
            var pipeline = try RecordPipeline([.grep(.regex(pattern, caseInsensitive: false), negated: false)])
            for _ in 0..<30 {
                let record = (0..<Int.random(in: 0...12, using: &rng))
                    .map { _ in Self.recordPieces[Int.random(in: 0..<Self.recordPieces.count, using: &rng)] }.joined()
                let kept = !collect(&pipeline, Array(record.utf8)).isEmpty
                #expect(kept == oracleMatches(regex, record), "pattern \(pattern) record \(record)")
            }
        }
        #expect(compiled > 100)
    }
}
#endif

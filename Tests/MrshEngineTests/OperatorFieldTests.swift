import MrshDataPath
import MrshControl
import MrshPlan
import MrshTestSupport
import Testing

@Suite struct OperatorFieldTests {
    @Test func trim() throws {
        #expect(try runOps([.trim], " \t a b \r\t ") == ["a b"])
        #expect(try runOps([.trim], "x\r") == ["x"])
        #expect(try runOps([.trim], " \t\r ") == [""])
        #expect(try runOps([.trim], "") == [""])
        #expect(try runOps([.trim], "\u{A0}é\u{A0}") == ["\u{A0}é\u{A0}"])
    }

    @Test func splitWhitespace() throws {
        #expect(try runOps([.split(.whitespace)], "  a  b\t\tc ") == ["a\tb\tc"])
        #expect(try runOps([.split(.whitespace)], "one") == ["one"])
        #expect(try runOps([.split(.whitespace)], " \t ") == [""])
        #expect(try runOps([.split(.whitespace)], "") == [""])
        #expect(try runOps([.split(.whitespace)], "a\r b") == ["a\tb"])
        #expect(try runOps([.split(.whitespace)], "a b\r") == ["a\tb"])
    }

    @Test func splitLiteralKeepsEmptyFields() throws {
        #expect(try runOps([.split(.literal(","))], "a,,b,") == ["a\t\tb\t"])
        #expect(try runOps([.split(.literal("::"))], "::x:::y") == ["\tx\t:y"])
        #expect(try runOps([.split(.literal(","))], "") == [""])
        #expect(try runOps([.split(.literal("é"))], "aébéc") == ["a\tb\tc"])
    }

    @Test func splitRegex() throws {
        #expect(try runOps([.split(.regex("[,;] *"))], "a, b;c;  d") == ["a\tb\tc\td"])
        #expect(try runOps([.split(.regex("^x"))], "xaxb") == ["\taxb"])
        // Empty matches never split.
        #expect(try runOps([.split(.regex("-*"))], "ab--c") == ["ab\tc"])
    }

    @Test func splitSeparatorMustNotBeEmpty() {
        #expect(throws: OperatorError.self) { _ = try RecordPipeline([.split(.literal(""))]) }
    }

    @Test func pick() throws {
        #expect(try runOps([.pick([2])], "a\tb\tc") == ["b"])
        #expect(try runOps([.pick([3, 1])], "a\tb\tc") == ["c\ta"])
        #expect(try runOps([.pick([1, 1])], "a\tb") == ["a\ta"])
        #expect(try runOps([.pick([4, 2])], "a\tb\tc") == ["\tb"])
        #expect(try runOps([.pick([1])], "") == [""])
        #expect(try runOps([.pick([2])], "") == [""])
        #expect(try runOps([.pick([2, 3])], "a\t\tc") == ["\tc"])
        #expect(try runOps([.pick([1])], "no tabs here") == ["no tabs here"])
    }

    @Test func pickRejectsFieldZero() {
        #expect {
            _ = try RecordPipeline([.pick([1, 0])])
        } throws: { error in
            (error as? OperatorError)?.message.contains("pick") ?? false
        }
    }

    @Test func tagFile() throws {
        #expect(try runOps([.tagFile], "line", file: "logs/a.txt") == ["line\tlogs/a.txt"])
        #expect(try runOps([.tagFile], "", file: "b") == ["\tb"])
    }

    @Test(arguments: [7, 8, 9])
    func randomSplitMatchesOracle(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let alphabet: [Character] = ["a", "b", "é", " ", " ", "\t", ",", ",", ";", "\r"]
        var blanks = try RecordPipeline([.split(.whitespace)])
        var commas = try RecordPipeline([.split(.literal(","))])
        var regex = try RecordPipeline([.split(.regex("[,;]+"))])
        for _ in 0..<300 {
            let length = Int.random(in: 0..<120, using: &rng)
            let text = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
            let bytes = Array(text.utf8)
            let awk = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: "\t")
            #expect(collect(&blanks, bytes) == [Array(awk.utf8)])
            let literal = text.split(separator: ",", omittingEmptySubsequences: false).joined(separator: "\t")
            #expect(collect(&commas, bytes) == [Array(literal.utf8)])
            #expect(collect(&regex, bytes) == [Array(oracleRegexSplit(text).utf8)])
        }
    }
}

/// Splits on maximal runs of "," and ";" (what the regex "[,;]+" matches), joined by TAB.
private func oracleRegexSplit(_ text: String) -> String {
    var fields: [String] = []
    var current = ""
    var inSeparator = false
    for ch in text {
        if ch == "," || ch == ";" {
            if !inSeparator { fields.append(current); current = "" }
            inSeparator = true
        } else {
            inSeparator = false
            current.append(ch)
        }
    }
    fields.append(current)
    return fields.joined(separator: "\t")
}

import MrshDataPath
import MrshControl
import MrshPlan
import MrshTestSupport
import Testing

/// The oracle: decode with the standard library (invalid bytes become U+FFFD, not a letter) and collect
/// maximal runs of scalars whose general category is a letter.
private func oracleWords(_ bytes: [UInt8]) -> [String] {
    var words: [String] = []
    var current = String.UnicodeScalarView()
    for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            current.append(scalar)
        default:
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
    }
    if !current.isEmpty { words.append(String(current)) }
    return words
}

private func words(_ bytes: [UInt8]) throws -> [String] {
    try runOps([.words], bytes).map { String(decoding: $0, as: UTF8.self) }
}

@Suite struct OperatorWordsTests {
    @Test func asciiSentence() throws {
        #expect(try runOps([.words], "The quick, brown fox -- jumps!") == ["The", "quick", "brown", "fox", "jumps"])
    }

    @Test func digitsUnderscoresAndApostrophesSeparate() throws {
        #expect(try runOps([.words], "abc123def don't a_b") == ["abc", "def", "don", "t", "a", "b"])
    }

    @Test func emptyAndLetterless() throws {
        #expect(try runOps([.words], "").isEmpty)
        #expect(try runOps([.words], "  123 ... \t\r").isEmpty)
    }

    @Test func unicodeLettersKeepCase() throws {
        #expect(try runOps([.words], "Καλημέρα κόσμε! 中文字 café Ǆemal ʰa")
            == ["Καλημέρα", "κόσμε", "中文字", "café", "Ǆemal", "ʰa"])
    }

    @Test func emojiAndMarksAreNotLetters() throws {
        #expect(try runOps([.words], "a😀b👍🏽c") == ["a", "b", "c"])
        // A combining accent (Mn) is not a letter: decomposed "é" splits.
        #expect(try runOps([.words], "cafe\u{301}s") == ["cafe", "s"])
    }

    @Test func invalidUTF8Separates() throws {
        let record: [UInt8] = Array("ab".utf8) + [0xFF] + Array("cd".utf8) + [0xE2, 0x82] + Array("ef".utf8)
            + [0xC0, 0xAF] + Array("gh".utf8) + [0xED, 0xA0, 0x80] + Array("ij".utf8) + [0xC3]
        #expect(try words(record) == ["ab", "cd", "ef", "gh", "ij"])
    }

    @Test func nulBytesAndCRLFRemnants() throws {
        #expect(try words(Array("one\0two\r".utf8)) == ["one", "two"])
    }

    @Test func wordsAreSlicesOfTheRecord() throws {
        #expect(try runOps([.words], Array("hello world".utf8)) == [Array("hello".utf8), Array("world".utf8)])
    }

    @Test func wordsAcrossBlockBoundaries() throws {
        // Long words and non-ASCII at every offset around the 64-byte blocks.
        for offset in 0..<140 {
            let prefix = String(repeating: "a", count: offset)
            for middle in ["é", " ", "中", "😀", "\u{FF}"] {
                let text = prefix + middle + String(repeating: "b", count: 70) + " " + String(repeating: "c", count: 64)
                #expect(try runOps([.words], text) == oracleWords(Array(text.utf8)), "offset \(offset) \(middle)")
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomRecordsMatchOracle(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var pipeline = try RecordPipeline([.words])
        for _ in 0..<500 {
            let record = randomRecord(&rng)
            let got = collect(&pipeline, record).map { String(decoding: $0, as: UTF8.self) }
            #expect(got == oracleWords(record), "record \(record)")
        }
    }

    @Test func everyBMPLetterIsAWord() throws {
        // Each BMP scalar on its own, between spaces: a word exactly when it is a letter.
        var text = String.UnicodeScalarView()
        var expected: [String] = []
        for v in UInt32(0x80)..<0x10000 {
            guard let scalar = Unicode.Scalar(v) else { continue }
            text.append(scalar)
            text.append(" ")
            if !oracleWords(Array(String(scalar).utf8)).isEmpty { expected.append(String(scalar)) }
        }
        #expect(try runOps([.words], String(text)) == expected)
    }
}

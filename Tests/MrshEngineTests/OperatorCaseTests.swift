import MrshDataPath
import MrshControl
import MrshPlan
import MrshTestSupport
import Testing

@Suite struct OperatorCaseTests {
    @Test func asciiLowerAndUpper() throws {
        let text = "Hello, World! [@`{] 0123456789 The Quick Brown Fox Jumps"
        #expect(try runOps([.lower], text) == [text.lowercased()])
        #expect(try runOps([.upper], text) == [text.uppercased()])
    }

    @Test func everyASCIIByte() throws {
        let bytes = (0..<128).map { UInt8($0) }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(try runOps([.lower], bytes) == [Array(text.lowercased().utf8)])
        #expect(try runOps([.upper], bytes) == [Array(text.uppercased().utf8)])
    }

    @Test func unicode() throws {
        for text in ["Καλημέρα ΚΌΣΜΕ", "Straße", "ÀÉÎÕÜ àéîõü", "İstanbul ıi", "ǅ ǆ Ǆ", "中文 😀 ok", "ﬁne"] {
            #expect(try runOps([.lower], text) == [text.lowercased()], "\(text)")
            #expect(try runOps([.upper], text) == [text.uppercased()], "\(text)")
        }
    }

    @Test func invalidBytesPassThrough() throws {
        let record: [UInt8] = [0x41, 0xFF, 0x62, 0xE2, 0x82, 0x43, 0x00, 0x64]
        #expect(try runOps([.lower], record) == [[0x61, 0xFF, 0x62, 0xE2, 0x82, 0x63, 0x00, 0x64]])
        #expect(try runOps([.upper], record) == [[0x41, 0xFF, 0x42, 0xE2, 0x82, 0x43, 0x00, 0x44]])
    }

    @Test func emptyRecord() throws {
        #expect(try runOps([.lower], "") == [""])
        #expect(try runOps([.upper], "") == [""])
    }

    @Test(arguments: [11, 12])
    func randomMatchesStringCaseMapping(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var lower = try RecordPipeline([.lower])
        var upper = try RecordPipeline([.upper])
        for _ in 0..<300 {
            let record = randomRecord(&rng)
            // Invalid bytes pass through unchanged, so compare on valid records only.
            guard let text = String(validating: record, as: UTF8.self) else { continue }
            #expect(collect(&lower, record) == [Array(text.lowercased().utf8)])
            #expect(collect(&upper, record) == [Array(text.uppercased().utf8)])
        }
    }
}

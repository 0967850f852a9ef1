import MrshDataPath
import MrshControl
import MrshPlan
import Testing

@Suite struct OperatorExtractTests {
    @Test func wholeMatches() throws {
        #expect(try runOps([.extract(.regex("[0-9]+", caseInsensitive: false))], "a1 b22 c333")
            == ["1", "22", "333"])
        #expect(try runOps([.extract(.regex("[0-9]+", caseInsensitive: false))], "none").isEmpty)
    }

    @Test func firstGroup() throws {
        #expect(try runOps([.extract(.regex("user=([a-z]+)", caseInsensitive: false))], "user=ann x user=bob")
            == ["ann", "bob"])
        #expect(try runOps([.extract(.regex("ID=([a-z]+)", caseInsensitive: true))], "id=ann Id=Bob")
            == ["ann", "Bob"])
    }

    @Test func groupThatDidNotTakePartIsEmpty() throws {
        #expect(try runOps([.extract(.regex("x(a)|y", caseInsensitive: false))], "xa y") == ["a", ""])
    }

    @Test func anchorsOnlyAtRecordStart() throws {
        #expect(try runOps([.extract(.regex("^a", caseInsensitive: false))], "aaa") == ["a"])
        #expect(try runOps([.extract(.regex("a$", caseInsensitive: false))], "aaa") == ["a"])
    }

    @Test func emptyMatchesAdvance() throws {
        // Like Python's re.findall("a*", "baa") == ["", "aa", ""].
        #expect(try runOps([.extract(.regex("a*", caseInsensitive: false))], "baa") == ["", "aa", ""])
        #expect(try runOps([.extract(.regex("x*", caseInsensitive: false))], "") == [""])
    }

    @Test func literalOccurrences() throws {
        #expect(try runOps([.extract(.literal("ab"))], "xabyabab") == ["ab", "ab", "ab"])
        #expect(try runOps([.extract(.literal("aa"))], "aaaaa") == ["aa", "aa"])
        #expect(try runOps([.extract(.literal("é"))], "éte é") == ["é", "é"])
        #expect(throws: OperatorError.self) { _ = try RecordPipeline([.extract(.literal(""))]) }
    }

    @Test func matchesAfterNulBytes() throws {
        let record: [UInt8] = [0x00, 0x31, 0x00, 0x32, 0x32]
        #expect(try runOps([.extract(.regex("[0-9]+", caseInsensitive: false))], record) == [[0x31], [0x32, 0x32]])
    }
}

import MrshDataPath
import MrshControl
import MrshPlan
import Testing

private func keeps(_ op: RecordOp, _ record: [UInt8]) throws -> Bool {
    let out = try runOps([op], record)
    if !out.isEmpty { #expect(out == [record]) }
    return !out.isEmpty
}

private func keeps(_ op: RecordOp, _ record: String) throws -> Bool {
    try keeps(op, Array(record.utf8))
}

@Suite struct OperatorGrepTests {
    @Test func literal() throws {
        let op = RecordOp.grep(.literal("error"), negated: false)
        #expect(try keeps(op, "an error here"))
        #expect(try keeps(op, "error"))
        #expect(!(try keeps(op, "an erro here")))
        #expect(!(try keeps(op, "")))
        #expect(!(try keeps(op, "ERROR")))
    }

    @Test func oneByteLiteral() throws {
        let op = RecordOp.grep(.literal("x"), negated: false)
        #expect(try keeps(op, "abcx"))
        #expect(!(try keeps(op, "abc")))
    }

    @Test func unicodeLiteral() throws {
        #expect(try keeps(.grep(.literal("λόγος"), negated: false), "ο λόγος μου"))
    }

    @Test func negated() throws {
        let op = RecordOp.grep(.literal("debug"), negated: true)
        #expect(try keeps(op, "info: ok"))
        #expect(!(try keeps(op, "debug: noisy")))
        #expect(try keeps(op, ""))
    }

    @Test func emptyLiteralMatchesEverything() throws {
        #expect(try keeps(.grep(.literal(""), negated: false), ""))
        #expect(try keeps(.grep(.literal(""), negated: false), "abc"))
    }

    @Test func regex() throws {
        let op = RecordOp.grep(.regex("^[0-9]+ (GET|POST) /a+$", caseInsensitive: false), negated: false)
        #expect(try keeps(op, "200 GET /aaa"))
        #expect(!(try keeps(op, "200 PUT /aaa")))
        #expect(!(try keeps(op, "x200 GET /aaa")))
        #expect(!(try keeps(op, "200 get /aaa")))
    }

    @Test func regexCaseInsensitive() throws {
        let op = RecordOp.grep(.regex("warn(ing)?", caseInsensitive: true), negated: false)
        #expect(try keeps(op, "WARNING: disk"))
        #expect(try keeps(op, "a Warn"))
        #expect(!(try keeps(op, "wa rn")))
    }

    @Test func plainRegexTakesLiteralPathWithSameResult() throws {
        let regex = RecordOp.grep(.regex("needle", caseInsensitive: false), negated: false)
        #expect(try keeps(regex, "hay needle hay"))
        #expect(!(try keeps(regex, "hay needl hay")))
    }

    @Test func nulBytesDoNotEndTheRecord() throws {
        let record: [UInt8] = [0x61, 0x00, 0x62, 0x00] + Array("error".utf8)
        #expect(try keeps(.grep(.literal("error"), negated: false), record))
        #expect(try keeps(.grep(.regex("err(o)r$", caseInsensitive: false), negated: false), record))
        #expect(try keeps(.grep(.regex("E[R]ROR", caseInsensitive: true), negated: false), record))
        #expect(!(try keeps(.grep(.regex("^b", caseInsensitive: false), negated: false), record)))
    }

    @Test func regexOnEmptyRecord() throws {
        #expect(try keeps(.grep(.regex("^$", caseInsensitive: false), negated: false), ""))
        #expect(!(try keeps(.grep(.regex("a", caseInsensitive: false), negated: false), "")))
    }

    @Test func regexSeesOnlyTheRecord() throws {
        // The record is a slice of a larger buffer: the regex must not read past its end.
        let buffer = Array("abc error".utf8)
        var pipeline = try RecordPipeline([.grep(.regex("err", caseInsensitive: false), negated: false)])
        var outputs = 0
        buffer.withUnsafeBytes { all in
            let record = UnsafeRawBufferPointer(rebasing: all[0..<5])
            pipeline.process(record, file: UnsafeRawBufferPointer(start: nil, count: 0)) { _ in outputs += 1 }
        }
        #expect(outputs == 0)
    }

    @Test func badRegexIsAClearError() {
        #expect {
            _ = try RecordPipeline([.grep(.regex("a(b", caseInsensitive: false), negated: false)])
        } throws: { error in
            guard let error = error as? OperatorError else { return false }
            return error.message.contains("grep") && error.message.contains("a(b")
                && error.message.contains("bad regular expression")
        }
        #expect(throws: OperatorError.self) { _ = try RecordPipeline([.extract(.regex("[z-a]", caseInsensitive: false))]) }
        #expect(throws: OperatorError.self) { _ = try RecordPipeline([.split(.regex("(("))]) }
    }
}

import MrshDataPath
import MrshControl
import MrshPlan
import Testing

private struct StopError: Error {}

@Suite struct OperatorPipelineTests {
    @Test func emptyPipelineIsIdentity() throws {
        var pipeline = try RecordPipeline([])
        #expect(pipeline.isIdentity)
        #expect(collect(&pipeline, Array("a\tb".utf8)) == [Array("a\tb".utf8)])
        #expect(!(try RecordPipeline([.trim]).isIdentity))
    }

    @Test func splitPickLower() throws {
        #expect(try runOps([.split(.whitespace), .pick([3, 1]), .lower], "  GET /Index.HTML 200 ") == ["200\tget"])
    }

    @Test func wordsUpper() throws {
        #expect(try runOps([.words, .upper], "Hello wörld, 中文!") == ["HELLO", "WÖRLD", "中文"])
    }

    @Test func grepNotThenWords() throws {
        let ops: [RecordOp] = [.grep(.literal("#"), negated: true), .words, .lower]
        #expect(try runOps(ops, "# Comment Line").isEmpty)
        #expect(try runOps(ops, "Real Text") == ["real", "text"])
    }

    @Test func wordsThenGrepThenTagFile() throws {
        let ops: [RecordOp] = [.words, .grep(.regex("^[A-Z]", caseInsensitive: false), negated: false), .tagFile]
        #expect(try runOps(ops, "Alice met bob and Carol", file: "f.txt") == ["Alice\tf.txt", "Carol\tf.txt"])
    }

    @Test func extractThenSplitThenPick() throws {
        let ops: [RecordOp] = [.extract(.regex("[a-z]+=[0-9]+", caseInsensitive: false)), .split(.literal("=")), .pick([2, 1])]
        #expect(try runOps(ops, "x=1 junk yy=22") == ["1\tx", "22\tyy"])
    }

    @Test func trimThenCaseThenWordsManyStages() throws {
        let ops: [RecordOp] = [.trim, .upper, .words, .lower, .tagFile, .split(.literal("\t")), .pick([2, 1])]
        #expect(try runOps(ops, "  One two\r", file: "n") == ["n\tone", "n\ttwo"])
    }

    @Test func scratchBuffersAreReusedAcrossRecords() throws {
        var pipeline = try RecordPipeline([.split(.whitespace), .pick([2]), .upper])
        #expect(collect(&pipeline, Array("a longerfieldvalue c".utf8)) == [Array("LONGERFIELDVALUE".utf8)])
        #expect(collect(&pipeline, Array("a b c".utf8)) == [Array("B".utf8)])
        #expect(collect(&pipeline, Array("x".utf8)) == [[]])
    }

    @Test func copiesDoNotShareScratchState() throws {
        var first = try RecordPipeline([.upper])
        var second = first
        let a = Array("abc".utf8)
        let b = Array("xyz".utf8)
        var seen: [[UInt8]] = []
        a.withUnsafeBytes { ra in
            b.withUnsafeBytes { rb in
                let empty = UnsafeRawBufferPointer(start: nil, count: 0)
                first.process(ra, file: empty) { outA in
                    second.process(rb, file: empty) { outB in seen.append(Array(outB)) }
                    seen.append(Array(outA))
                }
            }
        }
        #expect(seen == [Array("XYZ".utf8), Array("ABC".utf8)])
    }

    @Test func emitErrorsPropagate() throws {
        var pipeline = try RecordPipeline([.words])
        var count = 0
        #expect(throws: StopError.self) {
            try Array("a b c".utf8).withUnsafeBytes { record in
                try pipeline.process(record, file: UnsafeRawBufferPointer(start: nil, count: 0)) { _ in
                    count += 1
                    if count == 2 { throw StopError() }
                }
            }
        }
        #expect(count == 2)
    }

    @Test func longRecords() throws {
        let text = String(repeating: "Alpha beta, GAMMA δέλτα ", count: 2000)
        let out = try runOps([.words, .lower], text)
        #expect(out.count == 8000)
        #expect(Set(out) == ["alpha", "beta", "gamma", "δέλτα"])
    }
}

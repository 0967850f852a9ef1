import Testing
@testable import MrshShell

@Suite struct ResultTableTests {
    func table(_ text: String, limit: Int = 40) -> ResultTable {
        var t = ResultTable(limit: limit)
        Array(text.utf8).withUnsafeBytes { t.append($0) }
        t.finish()
        return t
    }

    @Test func alignsColumnsAndRightAlignsNumbers() {
        let t = table("the\t1024\nand\t7\nelephant\t12\n")
        #expect(t.renderRows() == "the       1024\nand          7\nelephant    12\n")
        #expect(t.footer == "3 rows")
    }

    @Test func countsDisplayWidthOfWideCharacters() {
        let t = table("日本\t1\nab\t22\n")
        #expect(t.renderRows() == "日本   1\nab    22\n")
    }

    @Test func cutsAtTheLimitAndSaysHowManyWereLeftOut() {
        let lines = (1...1234).map { "k\($0)\t\($0)" }.joined(separator: "\n") + "\n"
        let t = table(lines, limit: 40)
        #expect(t.rows.count == 40)
        #expect(t.totalRows == 1234)
        #expect(t.footer == "40 of 1,234 rows shown, 1,194 left out (:set limit N to show more)")
    }

    @Test func recordsSplitAcrossCallsAndWithoutFinalNewline() {
        var t = ResultTable(limit: 10)
        for chunk in ["a\t", "1\nb", "\t2\nc\t3"] { Array(chunk.utf8).withUnsafeBytes { t.append($0) } }
        t.finish()
        #expect(t.rows == [["a", "1"], ["b", "2"], ["c", "3"]])
        #expect(t.footer == "3 rows")
    }

    @Test func singleRowAndEmptyResult() {
        #expect(table("42\n").footer == "1 row")
        #expect(table("").footer == "0 rows")
        #expect(table("").renderRows() == "")
    }

    @Test func controlCharactersCannotMoveTheCursor() {
        let t = table("a\u{1B}[2Jb\t1\n")
        #expect(t.rows == [["a?[2Jb", "1"]])
    }

    @Test func fitsTheLastColumnToTheTerminal() {
        let long = String(repeating: "x", count: 100)
        let t = table("key\t\(long)\n")
        let rendered = t.renderRows(width: 40)
        #expect(DisplayWidth.of(rendered.dropLast()) <= 39)
        #expect(rendered.hasSuffix("…\n"))
    }

    @Test func headerForDescribe() {
        let t = table("a\tb\n")
        #expect(t.renderRows(header: ["[1]", "[2]"]) == "[1]  [2]\na    b\n")
    }

    @Test func mixedColumnIsLeftAligned() {
        let t = table("x\t10\ny\tten\n")
        #expect(t.renderRows() == "x  10\ny  ten\n")
    }
}

@Suite struct ExpandedViewTests {
    @Test func showsOneFieldPerLineWithAlignedLabels() {
        let rows = [(1...10).map { "f\($0)" }, ["a", "b"]]
        let text = ExpandedView.render(rows)
        #expect(text.hasPrefix("-- record 1\n[1]   f1\n[2]   f2\n"))
        #expect(text.contains("[10]  f10\n-- record 2\n[1]   a\n[2]   b\n"))
    }

    @Test func overflowIsMeasuredInDisplayColumns() {
        #expect(ExpandedView.overflows("short\n" + String(repeating: "x", count: 81) + "\n", width: 80))
        #expect(!ExpandedView.overflows("日本語\n", width: 6))
        #expect(ExpandedView.overflows("日本語\n", width: 5))
        #expect(!ExpandedView.overflows(String(repeating: "x", count: 500), width: nil))
    }
}

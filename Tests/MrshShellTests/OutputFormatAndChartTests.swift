import Testing
@testable import MrshShell

@Suite struct OutputFormatAndChartTests {
    @Test func csvQuotesAsRFC4180() {
        #expect(RecordFormatter.render("a\t1\nb,c\t\"q\"\n\n", format: .csv) == "a,1\r\n\"b,c\",\"\"\"q\"\"\"\r\n\"\"\r\n")
        #expect(RecordFormatter.render("x\ty", format: .csv) == "x,y\r\n", "a last record without its newline")
        #expect(RecordFormatter.render("x\t1\n", format: .csv, fieldNames: ["word", "n"]) == "word,n\r\nx,1\r\n")
    }

    @Test func jsonLinesWithNumbers() {
        #expect(
            RecordFormatter.render("the\t3\nx\t-1.5e2\n", format: .json)
                == "{\"f1\": \"the\", \"f2\": 3}\n{\"f1\": \"x\", \"f2\": -1.5e2}\n")
        #expect(RecordFormatter.render("+4\t.5\t5.\t007\t1e\n", format: .json) == "{\"f1\": 4, \"f2\": 0.5, \"f3\": 5.0, \"f4\": 7, \"f5\": \"1e\"}\n")
        #expect(RecordFormatter.render("a\"b\\c\u{1}\n", format: .json) == "{\"f1\": \"a\\\"b\\\\c\\u0001\"}\n")
        #expect(RecordFormatter.render("w\t2\n", format: .json, fieldNames: ["word", "count"]) == "{\"word\": \"w\", \"count\": 2}\n")
    }

    @Test func recordsCutBetweenChunksAreFormattedWhole() {
        var formatter = RecordFormatter(format: .json)
        var out: [UInt8] = []
        for chunk in ["ab", "c\t1", "2\nd\t", "3\n"] {
            var copy = chunk
            copy.withUTF8 { formatter.append(UnsafeRawBufferPointer($0), to: &out) }
        }
        formatter.finish(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "{\"f1\": \"abc\", \"f2\": 12}\n{\"f1\": \"d\", \"f2\": 3}\n")
    }

    @Test func markdownTable() {
        #expect(RecordFormatter.render("a\t1\nb|c\t2\n", format: .markdown) == "| f1 | f2 |\n| --- | --- |\n| a | 1 |\n| b\\|c | 2 |\n")
    }

    func table(_ text: String, limit: Int = 40) -> ResultTable {
        var t = ResultTable(limit: limit)
        var copy = text
        copy.withUTF8 { t.append(UnsafeRawBufferPointer($0)) }
        t.finish()
        return t
    }

    @Test func chartNeedsALabelAndANumber() throws {
        #expect(ChartData(table("a\t1\nb\t2\n")) != nil)
        #expect(ChartData(table("a\t1\nb\tx\n")) == nil)
        #expect(ChartData(table("a\t1\t2\n")) == nil)
        #expect(ChartData(table("")) == nil)
        let cut = try #require(ChartData(table("a\t1\nb\t2\nc\t3\n", limit: 2)))
        #expect(cut.bars.count == 2 && cut.omitted == 1)
    }

    @Test func textChartScalesToTheWidth() throws {
        let data = try #require(ChartData(table("the\t8\ncat\t4\ndog\t1\nnone\t0\n")))
        let lines = data.renderText(width: 40).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        // width 40 - label 4 - value 1 - 4 = 31 columns for the largest bar.
        #expect(lines[0] == "the   " + String(repeating: "█", count: 31) + " 8")
        #expect(lines[1].hasPrefix("cat   " + String(repeating: "█", count: 15) + "▌ 4"))
        #expect(lines[3] == "none   0")
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 40 })
    }

    @Test func svgChartEscapesText() throws {
        let data = try #require(ChartData(table("<a&b>\t2\nc\t1\n")))
        let svg = data.renderSVG(title: "read \"x\" | count")
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("&lt;a&amp;b&gt;"))
        #expect(svg.contains("read &quot;x&quot; | count"))
        #expect(svg.components(separatedBy: "<rect ").count == 4, "a background and two bars")
        #expect(svg.hasSuffix("</svg>\n"))
    }
}

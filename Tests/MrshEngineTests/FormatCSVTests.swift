import Foundation
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan
import MrshTestSupport

/// `parse csv`, CSV record reading and CSV split points, against hand cases and Python's `csv` module.
@Suite struct FormatCSVTests {
    private func parse(_ record: String) throws -> String {
        try runOps([.parseCSV], record).first ?? "<none>"
    }

    @Test func fieldsQuotesAndEscapes() throws {
        #expect(try parse("a,b,c") == "a\tb\tc")
        #expect(try parse("") == "")
        #expect(try parse("a,") == "a\t")
        #expect(try parse(",") == "\t")
        #expect(try parse("\"a,b\",c") == "a,b\tc")
        #expect(try parse("\"say \"\"hi\"\"\",x") == "say \"hi\"\tx")
        #expect(try parse("\"\"") == "")
        #expect(try parse("\"\"\"\"") == "\"")
        #expect(try parse("\"line1\nline2\",z") == "line1\\nline2\tz")
        #expect(try parse("\"a\r\nb\"") == "a\\r\\nb")
        #expect(try parse("x\ty,back\\slash") == "x\\ty\tback\\slash")
        #expect(try parse("é,中文,😀") == "é\t中文\t😀")
    }

    @Test func malformedInputIsReadLeniently() throws {
        // A stray quote in an unquoted field is a byte.
        #expect(try parse("ab\"c,d") == "ab\"c\td")
        // Bytes after a closing quote join the field (as Python's csv reads them).
        #expect(try parse("\"ab\"cd,e") == "abcd\te")
        #expect(try parse("\"ab\"c\"d\",e") == "abc\"d\"\te")
        // An unterminated quote runs to the record's end.
        #expect(try parse("a,\"b,c") == "a\tb,c")
        #expect(try parse("\"") == "")
    }

    @Test func readerKeepsQuotedLineBreaksAndStripsCRLF() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("a.csv", "h1,h2\r\n\"x\ny\",2\r\n\"p\"\"q\r\n\",3\nlast,\"no newline\"")
        let records = try csvRecords(path).map { String(decoding: $0, as: UTF8.self) }
        #expect(records == ["h1,h2", "\"x\ny\",2", "\"p\"\"q\r\n\",3", "last,\"no newline\""])
        let body = try csvRecords(path, skipHeader: true).map { String(decoding: $0, as: UTF8.self) }
        #expect(body == Array(records.dropFirst()))
        // An unterminated quote makes one record of the rest of the file.
        let open = dir.write("b.csv", "a,b\n\"c\nd\ne\n")
        #expect(try csvRecords(open).map { String(decoding: $0, as: UTF8.self) } == ["a,b", "\"c\nd\ne"])
    }

    /// Every way to cut a file (each split size, through `InputPlanner.csvTasks`) reads every record
    /// exactly once and whole.
    @Test func splitPointsMoveToRecordStarts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: 7)
        let pieces = ["a", "bc", ",", "\"", "\n", "\r\n", "x y", "é"]
        var text = ""
        for _ in 0..<60 {
            var fields: [String] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let raw = (0..<Int.random(in: 0...5, using: &rng)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined()
                let needsQuotes = raw.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
                fields.append(needsQuotes ? "\"" + raw.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : raw)
            }
            text += fields.joined(separator: ",") + (Bool.random(using: &rng) ? "\n" : "\r\n")
        }
        let path = dir.write("r.csv", text)
        let size = FileIO.size(of: path) ?? 0
        let whole = try csvRecords(path)
        #expect(whole.count == 60)
        var insideQuotes = 0
        for splitSize in Int64(1)...Int64(200) {
            let input = InputPlanner.SizedInput(split: .file(path: path, offset: 0, length: size), size: size)
            let tasks = try InputPlanner.csvTasks([input], splitSize: splitSize)
            var records: [[UInt8]] = []
            var covered: Int64 = 0
            for task in tasks {
                for split in task {
                    guard case .file(_, let offset, let length) = split else { continue }
                    #expect(offset == covered, "split size \(splitSize): gap or overlap at \(offset)")
                    covered = offset + length
                    records += try csvRecords(path, offset: offset, length: length)
                }
            }
            #expect(covered == size)
            #expect(records == whole, "split size \(splitSize)")
            // How often a plain line start (where a lines split begins) would have cut a record.
            let bytes = Array(text.utf8)
            let moved = Set(tasks.compactMap { task -> Int64? in
                if case .file(_, let offset, _) = task[0] { return offset }
                return nil
            })
            for task in InputPlanner.tasks([input], splitSize: splitSize) {
                guard case .file(_, let offset, _) = task[0], offset > 0 else { continue }
                var lineStart = Int(offset)
                while lineStart < bytes.count && bytes[lineStart - 1] != 0x0A { lineStart += 1 }
                if lineStart < bytes.count && !moved.contains(Int64(lineStart)) { insideQuotes += 1 }
            }
        }
        #expect(insideQuotes > 0)
    }

    @Test func recordStartsCountQuotesFromTheFileStart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Record starts: 0, 4 ("a,b\n"), 14 ("\"x\ny\nz\",w\n" is 10 bytes), 18.
        let path = dir.write("s.csv", "a,b\n\"x\ny\nz\",w\nc,d\n")
        let size = FileIO.size(of: path) ?? 0
        let starts = try CSVScan.recordStarts(path: path, size: size, targets: [1, 4, 5, 7, 9, 14, 15, 18], cancel: nil)
        #expect(starts == [4, 4, 14, 14, 14, 14, 18, 18])
    }

    /// Python's csv module writes random rows (commas, quotes, line breaks, CRLF, unicode, empty fields,
    /// TABs and backslashes) and reads them back; the reader and `parse csv` must give the same fields.
    @Test(.enabled(if: PythonOracle.available), arguments: [1, 2, 3])
    func agreesWithPythonCSV(seed: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.file("in.csv")
        let expected = dir.file("expected.txt")
        _ = try PythonOracle.run(Self.csvOracle, [String(seed), input, expected, "200"])
        let records = try csvRecords(input)
        let got = try runEach([.parseCSV], records).map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "<bad>" }
        let want = expectedLines(expected)
        #expect(got.count == want.count)
        for (index, (a, b)) in zip(got, want).enumerated() where a != b {
            Issue.record("record \(index): got \(a.debugDescription), want \(b.debugDescription)")
            break
        }
    }

    @Test func headerCheckNamesBothFiles() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.csv", "id,\"full name\",\"note\nwith break\"\r\n1,x,y\n")
        dir.write("in/b.csv", "id,\"full name\",\"note\nwith break\"\n2,z,w\n")
        #expect(try CSVHeader.read(patterns: [dir.file("in/*.csv")]) == ["id", "full name", "note\nwith break"])
        // A spreadsheet's byte order mark is not part of the first name, and headers with and without one agree.
        dir.write("bom/a.csv", "\u{FEFF}name,age\r\nann,3\r\n")
        dir.write("bom/b.csv", "name,age\nbob,5\n")
        #expect(try CSVHeader.read(patterns: [dir.file("bom/*.csv")]) == ["name", "age"])
        dir.write("in/c.csv", "id,name\n3,q\n")
        do {
            _ = try CSVHeader.read(patterns: [dir.file("in/*.csv")])
            Issue.record("headers differ, but no error")
        } catch let error as EngineError {
            #expect(error.isValidation)
            #expect(error.message.contains(dir.file("in/c.csv")))
            #expect(error.message.contains(dir.file("in/a.csv")))
            #expect(
                error.message
                    == "the CSV header of '\(dir.file("in/c.csv"))' (id, name) differs from that of "
                    + "'\(dir.file("in/a.csv"))' (id, full name, note\\nwith break)")
        }
        dir.write("empty/e.csv", "")
        #expect(throws: EngineError.invalid("'\(dir.file("empty/e.csv"))' is empty: it has no CSV header")) {
            try CSVHeader.read(patterns: [dir.file("empty/e.csv")])
        }
        #expect(throws: EngineError.noMatch(pattern: dir.file("none/*.csv"))) {
            try CSVHeader.read(patterns: [dir.file("none/*.csv")])
        }
    }

    static let csvOracle = #"""
import csv, io, random, sys
seed, path, expected, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
pieces = ["a", "Bc", "x y", ",", ",,", '"', '""', "\n", "\r\n", "\t", "\\", "\\n", "é", "中文", "😀", "", " ", "1.5", "'", "\r"]
crlf = seed % 2 == 0
terminator = "\r\n" if crlf else "\n"
rows = []
for _ in range(count):
    row = []
    for _ in range(rng.randint(1, 6)):
        field = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        if not crlf:
            field = field.replace("\r", "")  # csv quotes a lone CR only when it is in the line terminator
        row.append(field)
    rows.append(row)
buffer = io.StringIO(newline="")
writer = csv.writer(buffer, lineterminator=terminator, quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
for row in rows:
    writer.writerow(row)
text = buffer.getvalue()
back = list(csv.reader(io.StringIO(text, newline="")))
assert back == rows, "the oracle does not read back what it wrote"
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write(text)
def escape(field):
    return field.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
with open(expected, "w", encoding="utf-8", newline="") as f:
    for row in back:
        f.write("\t".join(escape(x) for x in row) + "\n")
"""#
}

import Foundation
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// `parse json` against hand cases and Python's `json` module.
@Suite struct FormatJSONTests {
    private func parse(_ record: String, _ paths: [String]) throws -> String {
        try runOps([.parseJSON(paths.map { $0.isEmpty ? [] : $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) })], record)
            .first ?? "<none>"
    }

    @Test func valuesAndPaths() throws {
        let line = #"{"a": {"b": "x\ty", "n": -1.5e+3}, "t": true, "f": false, "z": null, "arr": [1, {"id": 7}, [2, 3]], "0": "key zero"}"#
        #expect(try parse(line, ["a.b", "a.n", "t", "f", "z", "missing", "a.missing.deeper"]) == "x\\ty\t-1.5e+3\ttrue\tfalse\t\t\t")
        #expect(try parse(line, ["arr.0", "arr.1.id", "arr.2", "arr.3", "arr.01", "0"]) == "1\t7\t[2,3]\t\t\tkey zero")
        #expect(try parse(line, ["a"]) == #"{"b":"x\ty","n":-1.5e+3}"#)
        #expect(try parse(#"{ "s" : "a b" , "o" : { "k" : [ 1 , "x y" ] } }"#, ["o", ""]) == #"{"k":[1,"x y"]}"# + "\t" + #"{"s":"a b","o":{"k":[1,"x y"]}}"#)
        // A component applied to a string or number is missing; the last of duplicate keys counts.
        #expect(try parse(#"{"a": "str", "b": 1}"#, ["a.x", "b.0"]) == "\t")
        #expect(try parse(#"{"a": {"b": 1}, "a": {"c": 2}}"#, ["a.b", "a.c"]) == "\t2")
        #expect(try parse(#"{"k": 1, "k": 2}"#, ["k"]) == "2")
    }

    @Test func stringEscapes() throws {
        #expect(try parse(#"{"s": "q\" b\\ s\/ \b\f\n\r\t"}"#, ["s"]) == "q\" b\\ s/ \u{8}\u{c}\\n\\r\\t")
        #expect(try parse(#"{"s": "\u00e9\u4e2d\ud83d\ude00\u0041"}"#, ["s"]) == "é中😀A")
        // A lone surrogate becomes U+FFFD.
        #expect(try parse(#"{"s": "\ud800x\udc00"}"#, ["s"]) == "\u{FFFD}x\u{FFFD}")
        // Keys are compared unescaped.
        #expect(try parse(#"{"\u0061b": 5}"#, ["ab"]) == "5")
        #expect(try parse(#"{"raw": "é😀"}"#, ["raw"]) == "é😀")
    }

    /// The string scan goes a word and then 16 bytes at a time: a quote, backslash or control byte at
    /// every offset of a long string is found where it is.
    @Test func stringScanFindsEveryOffset() throws {
        var pipeline = try RecordPipeline([.parseJSON([["s"]])])
        for offset in 0..<48 {
            let before = String(repeating: "x", count: offset)
            let after = String(repeating: "y", count: 40)
            #expect(try parse(#"{"s": ""# + before + #"\"q"# + after + #""}"#, ["s"]) == before + "\"q" + after)
            #expect(try parse(#"{"s": ""# + before + #"é\\"# + after + #""}"#, ["s"]) == before + "é\\" + after)
            #expect(try parse(#"{"s": ""# + before + #""}"#, ["s"]) == before)
            let control = Array((#"{"s": ""# + before).utf8) + [0x01] + Array((after + #""}"#).utf8)
            do {
                _ = try collectChecked(&pipeline, control)
                Issue.record("accepted a control byte at offset \(offset)")
            } catch let error as EngineError {
                guard case .badRecord(let message) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(message.contains("control byte in a string at byte \(7 + offset)"), "\(message)")
            }
        }
    }

    @Test func invalidRecordsAreBadRecords() throws {
        var pipeline = try RecordPipeline([.parseJSON([["a"]])])
        let bad = [
            "", "   ", "[1]", "\"s\"", "{", #"{"a": 1"#, #"{"a" 1}"#, #"{"a": 1,}"#, #"{"a": tru}"#, #"{"a": "\x"}"#,
            #"{"a": "\u12g4"}"#, "{\"a\": \"tab\there\"}", #"{"a": 01}"#, #"{"a": 1.}"#, #"{"a": -}"#, #"{"a": 1} x"#,
            #"{"a": [1 2]}"#, #"{"a": NaN}"#, #"{a: 1}"#, #"{"a": "unterminated}"#,
            String(repeating: "[", count: 600),
            "{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}",
        ]
        for record in bad {
            do {
                _ = try collectChecked(&pipeline, Array(record.utf8))
                Issue.record("accepted \(record.prefix(40).debugDescription)")
            } catch let error as EngineError {
                guard case .badRecord(let message) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(message.contains("not valid JSON") || message.contains("empty record"))
            }
        }
        // Deep but within the limit is fine.
        let deep = "{\"a\":" + String(repeating: "[", count: 400) + String(repeating: "]", count: 400) + "}"
        #expect(try collectChecked(&pipeline, Array(deep.utf8)).count == 1)
        // Under skip, a bad record is dropped and counted.
        var skipping = try RecordPipeline([.parseJSON([["a"]])], badRecords: .skip)
        #expect(try collectChecked(&skipping, Array("{bad".utf8)).isEmpty)
        #expect(try collectChecked(&skipping, Array(#"{"a": 1}"#.utf8)) == [Array("1".utf8)])
        #expect(skipping.skippedRecords == 1)
    }

    /// Python's json module writes random objects (nested, arrays, escapes, unicode with and without
    /// `ensure_ascii`, big and float numbers, null, missing keys, odd spacing); the expected fields are
    /// computed from the objects in Python.
    @Test(.enabled(if: PythonOracle.available), arguments: [11, 12, 13])
    func agreesWithPythonJSON(seed: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.file("in.jsonl")
        let expected = dir.file("expected.txt")
        let paths = try PythonOracle.run(Self.jsonOracle, [String(seed), input, expected, "300"])
            .split(separator: "\n").map { line in line.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
        let records = try jsonLines(input)
        let got = try runEach([.parseJSON(paths)], records).map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "<bad>" }
        let want = expectedLines(expected)
        #expect(got.count == want.count)
        for (index, (a, b)) in zip(got, want).enumerated() where a != b {
            Issue.record("record \(index) \(String(decoding: records[index], as: UTF8.self)): got \(a.debugDescription), want \(b.debugDescription)")
            break
        }
    }

    /// The lines of a file as `LineReader` reads them.
    private func jsonLines(_ path: String) throws -> [[UInt8]] {
        var reader = try LineReader(path: path, offset: 0, length: FileIO.size(of: path) ?? 0)
        var lines: [[UInt8]] = []
        try reader.forEachLine { line in
            lines.append(Array(line))
            return true
        }
        return lines
    }

    static let jsonOracle = #"""
import json, random, re, sys
seed, path, expected, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
keys = ["a", "b", "c", "0", "1", "name", "é", "k y", "q\"t", "sl\\ash"]
chars = ["x", "Y", " ", "\t", "\n", "\r", "\"", "\\", "/", "é", "中", "😀", "\u0001", "\u001f", "\u2028", "\u007f", "0", ","]
def string():
    return "".join(rng.choice(chars) for _ in range(rng.randint(0, 6)))
def number():
    return rng.choice([0, -1, 42, 12345678901234567890, -3.25, 1e-7, 2.5e300, 0.1, -0.0, rng.randint(-1000, 1000)])
def value(depth):
    r = rng.random()
    if depth < 3 and r < 0.25:
        return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and r < 0.4:
        return [value(depth + 1) for _ in range(rng.randint(0, 4))]
    return rng.choice([string, number, lambda: True, lambda: False, lambda: None])()
paths = ["a", "b", "c", "a.b", "a.0", "b.1", "a.a.a", "name", "é", "k y", "q\"t", "sl\\ash", "c.0.a", "0", "1.0", "missing", "a.01"]
MISSING = object()
def lookup(v, comps):
    for c in comps:
        if isinstance(v, dict) and c in v:
            v = v[c]
        elif isinstance(v, list) and re.fullmatch(r"0|[1-9][0-9]*", c) and int(c) < len(v):
            v = v[int(c)]
        else:
            return MISSING
    return v
def render(v, ascii):
    if v is MISSING or v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return v.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=ascii)
with open(path, "w", encoding="utf-8", newline="") as f, open(expected, "w", encoding="utf-8", newline="") as e:
    for _ in range(count):
        obj = {rng.choice(keys): value(1) for _ in range(rng.randint(0, 6))}
        ascii = rng.random() < 0.5
        separators = rng.choice([(", ", ": "), (",", ":"), (" ,  ", " :\t")])
        f.write(json.dumps(obj, ensure_ascii=ascii, separators=separators) + "\n")
        e.write("\t".join(render(lookup(obj, p.split(".")), ascii) for p in paths) + "\n")
print("\n".join(paths))
"""#
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// CSV and JSON sources through the in-process engine: split points inside quoted multi-line fields,
/// standard input chunked at record ends, headers of several files, bad JSON records failing or skipped.
@Suite struct FormatEngineTests {
    /// Python writes `count` CSV rows (after a header) whose fields often hold line breaks, commas and
    /// quotes, and the expected `parse csv` output of the rows (not the header).
    private func generate(_ dir: TemporaryDirectory, _ name: String, seed: Int, count: Int) throws -> (path: String, expected: [String]) {
        let path = dir.file(name)
        let expected = dir.file(name + ".expected")
        _ = try PythonOracle.run(Self.multiLineOracle, [String(seed), path, expected, String(count)])
        return (path, expectedLines(expected))
    }

    private func run(
        _ plan: JobPlan, dir: TemporaryDirectory, splitSize: Int64, skipBadRecords: Bool = false, standardInput: Int32? = nil
    ) async throws -> (lines: [String], summary: JobSummary) {
        let options = EngineOptions(
            workers: 2,
            settings: JobSettings(reducers: 2, splitSize: splitSize, memoryBudget: 1 << 20, skipBadRecords: skipBadRecords),
            scratchDirectory: dir.file("scratch-\(UInt32.random(in: 0...UInt32.max))"))
        let engine = try Engine(options: options)
        let sink = CollectingSink()
        let summary = try await engine.run(plan, standardInput: standardInput, output: sink)
        return (sink.lines, summary)
    }

    private func csvPlan(_ input: JobInput, shuffle: Shuffle? = nil) -> JobPlan {
        JobPlan(jobs: [
            JobSpec(
                id: 0, sources: [JobSource(input: input, mapOps: [.parseCSV], format: .csv(skipHeader: true))],
                shuffle: shuffle, output: .standardOutput)
        ])
    }

    /// Small splits put many split points inside quoted multi-line fields: no record may be lost, read
    /// twice or cut, and each file's header is dropped once.
    @Test(.enabled(if: PythonOracle.available)) func csvSplitsInsideQuotedFields() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let a = try generate(dir, "in/a.csv", seed: 5, count: 300)
        let b = try generate(dir, "in/b.csv", seed: 6, count: 40)
        let size = FileIO.size(of: a.path) ?? 0
        for splitSize: Int64 in [97, 1000, 4096, 1 << 20] {
            // At the smaller sizes, some plain line starts after a split point are inside quotes.
            let (lines, summary) = try await run(csvPlan(.files([dir.file("in/*.csv")])), dir: dir, splitSize: splitSize)
            #expect(lines == a.expected + b.expected, "split size \(splitSize)")
            #expect(summary.jobs[0].map.skippedRecords == 0)
            if splitSize < size { #expect(summary.jobs[0].mapTasks > 1) }
        }
        // The control: read as lines, the same splits cut records (so the sizes above do split inside quotes).
        var asLines = csvPlan(.files([dir.file("in/*.csv")]))
        asLines.jobs[0].sources[0].format = .lines
        let (cut, _) = try await run(asLines, dir: dir, splitSize: 97)
        #expect(cut.count > a.expected.count + b.expected.count + 2)
        // Through a shuffle whose ranges are sampled from the splits (sort by record).
        let (sorted, _) = try await run(
            csvPlan(.files([dir.file("in/*.csv")]), shuffle: .sort(SortOrder(field: .record), limit: nil)), dir: dir,
            splitSize: 500)
        #expect(sorted == (a.expected + b.expected).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    /// Standard input read as CSV is chunked at record ends, never inside a quoted field.
    @Test(.enabled(if: PythonOracle.available)) func csvStandardInputChunksAtRecordEnds() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let a = try generate(dir, "stdin.csv", seed: 9, count: 300)
        for splitSize: Int64 in [64, 333, 1 << 20] {
            let fd = open(a.path, O_RDONLY)
            #expect(fd >= 0)
            defer { close(fd) }
            let (lines, summary) = try await run(csvPlan(.standardInput), dir: dir, splitSize: splitSize, standardInput: fd)
            #expect(lines == a.expected, "split size \(splitSize)")
            if splitSize < 1000 { #expect(summary.jobs[0].mapTasks > 10) }
        }
    }

    /// `StandardInputChunker` itself: with `csv`, every chunk but the last ends with a record end.
    @Test(.enabled(if: PythonOracle.available)) func chunkerCutsAtRecordEnds() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let a = try generate(dir, "c.csv", seed: 10, count: 200)
        let whole = try csvRecords(a.path)
        let store = try BlobStore(root: dir.file("store"))
        let fd = open(a.path, O_RDONLY)
        defer { close(fd) }
        let chunks = try StandardInputChunker.chunk(
            descriptor: fd, store: store, run: "r1", chunkSize: 50, csv: true, holder: .local, address: "", cancel: nil)
        #expect(chunks.count > 20)
        var records: [[UInt8]] = []
        for chunk in chunks {
            guard case .blob(let location) = chunk.split else { continue }
            let path = store.path(of: location.id)
            records += try csvRecords(path)
        }
        #expect(records == whole)
    }

    /// A bad JSON line fails its task with a message naming the file and offset; with skipping, it is
    /// dropped and counted.
    @Test func invalidJSONIsABadRecord() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("in/e.jsonl", "{\"a\": 1}\n{\"a\": 2\n{\"a\": {\"b\": [3]}}\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([path]), mapOps: [.parseJSON([["a"]])], output: .standardOutput)
        ])
        do {
            _ = try await run(plan, dir: dir, splitSize: 1 << 20)
            Issue.record("a bad record did not fail the job")
        } catch let error as EngineError {
            #expect(error.message.contains("\(path) at offset 0"), "\(error.message)")
            #expect(error.message.contains("is not valid JSON"), "\(error.message)")
        }
        let (lines, summary) = try await run(plan, dir: dir, splitSize: 1 << 20, skipBadRecords: true)
        #expect(lines == ["1", #"{"b":[3]}"#])
        #expect(summary.jobs[0].map.skippedRecords == 1)
        // Through a shuffle too.
        var counted = plan
        counted.jobs[0].shuffle = .aggregate(.count)
        let (counts, countSummary) = try await run(counted, dir: dir, splitSize: 1 << 20, skipBadRecords: true)
        #expect(counts == ["1\t1", #"{"b":[3]}"# + "\t1"])
        #expect(countSummary.jobs[0].map.skippedRecords == 1)
    }

    static let multiLineOracle = #"""
import csv, io, random, sys
seed, path, expected, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
pieces = ["word", "a b", ",", '"', "\n", "\n\n", "\r\n", "é", "😀", "\t", "", "12"]
rows = [["id", "text", "note\nwith break"]]
for i in range(count):
    rows.append([str(i)] + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 3))])
buffer = io.StringIO(newline="")
csv.writer(buffer, lineterminator="\r\n" if seed % 2 else "\n").writerows(rows)
text = buffer.getvalue()
assert list(csv.reader(io.StringIO(text, newline=""))) == rows
import os
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w", encoding="utf-8", newline="") as f:
    f.write(text)
def escape(field):
    return field.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
with open(expected, "w", encoding="utf-8", newline="") as f:
    for row in rows[1:]:
        f.write("\t".join(escape(x) for x in row) + "\n")
"""#
}

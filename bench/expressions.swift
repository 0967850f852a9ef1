// The expression stages on 1M generated log lines (bench/expressions.sh builds and runs it).
import MrshDataPath
import MrshPlan
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// 1M log-like records: method, path, status, bytes, latency
var rng: UInt64 = 42
func next() -> UInt64 { rng &+= 0x9E37_79B9_7F4A_7C15; var z = rng; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31) }
let methods = ["GET", "POST", "PUT"]
let paths = ["/index.html", "/api/v1/users", "/static/app.js", "/login"]
var text: [UInt8] = []
var offsets: [(Int, Int)] = []
for _ in 0..<1_000_000 {
    let line = "\(methods[Int(next() % 3)])\t\(paths[Int(next() % 4)])\t\([200, 404, 500][Int(next() % 3)])\t\(next() % 100000)\t\(Double(next() % 10000) / 100)"
    let start = text.count
    text += Array(line.utf8)
    offsets.append((start, text.count - start))
}
let f = FieldExpression.field
let cases: [(String, [RecordOp])] = [
    ("trim (baseline)", [.trim]),
    ("where $3 == 404", [.filter(.comparison(.equal, f(3), .integer(404)))]),
    ("where $1 == \"GET\" and $4 > 50000", [.filter(.and(.comparison(.equal, f(1), .string("GET")), .comparison(.greater, f(4), .integer(50000))))]),
    ("where $5 * 2 > 100", [.filter(.comparison(.greater, .arithmetic(.multiply, f(5), .integer(2)), .integer(100)))]),
    ("select $2, $4 / 1024, upper($1)", [.project([f(2), .arithmetic(.divide, f(4), .integer(1024)), .call(.upper, [f(1)])])]),
    ("select $1, $3", [.project([f(1), f(3)])]),
    ("sort key $4 desc, $2", [.prependSortKey([SortKeyPart(f(4), descending: true), SortKeyPart(f(2), descending: false)])]),
]
for (name, ops) in cases {
    var pipeline = try RecordPipeline(ops)
    var bytes = 0
    let t0 = now()
    text.withUnsafeBytes { all in
        for (start, count) in offsets {
            let rec = UnsafeRawBufferPointer(rebasing: all[start..<(start + count)])
            pipeline.process(rec, file: UnsafeRawBufferPointer(start: nil, count: 0)) { bytes &+= $0.count }
        }
    }
    let t = now() - t0
    print("\(name): \(Int(Double(offsets.count) / t / 1000)) k records/s, \(Int(Double(text.count) / t / 1e6)) MB/s (out \(bytes))")
}

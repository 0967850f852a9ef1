// A skewed shuffle join with and without the coordinator's skew handling (bench/join_skew.sh builds and
// runs it): one key holds half of the left side. Prints each run's time and the output records per reducer
// (the part files' lines): maximum and median.
import Foundation
import MrshControl
import MrshDataPath
import MrshPlan

let arguments = CommandLine.arguments
let leftRecords = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
let reducers = arguments.count > 2 ? Int(arguments[2]) ?? 8 : 8
let workers = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2
let keys = 100_000

let root = NSTemporaryDirectory() + "mrsh-join-skew-\(getpid())"
try FileManager.default.createDirectory(atPath: root + "/scratch", withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: root) }

// Left: `l<i> TAB key TAB payload`, half of them with key `hot`, the rest uniform over 100k keys.
// Right: one record per key, `hot` included.
var state: UInt64 = 42
func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
var left = ""
left.reserveCapacity(leftRecords * 32)
for i in 0..<leftRecords {
    let key = next() % 2 == 0 ? "hot" : "k\(next() % UInt64(keys))"
    left += "l\(i)\t\(key)\tpayload-\(i % 977)\n"
}
var right = "hot\tH\n"
for j in 0..<keys { right += "k\(j)\tv\(j)\n" }
try Data(left.utf8).write(to: URL(fileURLWithPath: root + "/left.txt"))
try Data(right.utf8).write(to: URL(fileURLWithPath: root + "/right.txt"))
print("left \(leftRecords) records (\(left.utf8.count / 1_048_576) MiB, 50% key 'hot'), right \(keys + 1) records, \(reducers) reducers, \(workers) workers")

for mode in ["on", "off"] {
    setenv("MRSH_JOIN_SKEW", mode, 1)
    let out = root + "/out-" + mode
    let join = Join(kind: .inner, strategy: .shuffle, rightSources: 1, rightFieldCount: 1)
    let spec = JobSpec(
        id: 0,
        sources: [
            JobSource(input: .files([root + "/right.txt"]), mapOps: [.prependJoinKey(.field(1), .right(removingField: 1), salt: nil)]),
            JobSource(input: .files([root + "/left.txt"]), mapOps: [.prependJoinKey(.field(2), .left, salt: nil)]),
        ],
        shuffle: .join(join), reducers: reducers, output: .directory(path: out, overwrite: false))
    let options = EngineOptions(
        workers: workers, settings: JobSettings(reducers: reducers, splitSize: 4 << 20), scratchDirectory: root + "/scratch")
    let engine = try Engine(options: options)
    let started = Date()
    let summary = try await engine.run(JobPlan(jobs: [spec]), output: CollectingSink())
    let elapsed = Date().timeIntervalSince(started)
    var perPart: [Int] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: out).sorted() where name.hasPrefix("part-") {
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
        perPart.append(data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) })
    }
    let sorted = perPart.sorted()
    let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    let total = perPart.reduce(0, +)
    let ratio = median > 0 ? Double(sorted.last ?? 0) / Double(median) : 0
    print(
        "skew handling \(mode): \(String(format: "%.2f", elapsed)) s, \(total) output records, per reducer max "
            + "\(sorted.last ?? 0) median \(median) (max/median \(String(format: "%.1f", ratio))), "
            + "\(summary.jobs.first?.mapTasks ?? 0) map tasks")
}

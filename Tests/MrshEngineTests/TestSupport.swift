#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array((EngineOptions.temporaryDirectory + "/mrsh-test-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            // The buffer holds the NUL-terminated template, so baseAddress is non-nil.
            mkdtemp(buffer.baseAddress!)
        }
        precondition(created != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ content: String) -> String {
        write(name, Array(content.utf8))
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = file(name)
        _ = try? FileIO.makeDirectories(FileIO.parentDirectory(full))
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(full)")
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                precondition(n > 0)
                done += n
            }
        }
        close(fd)
        return full
    }

    func read(_ name: String) -> String {
        String(decoding: readBytes(file(name)), as: UTF8.self)
    }

    func exists(_ name: String) -> Bool { FileIO.exists(file(name)) }

    func list(_ name: String = "") -> [String] {
        (try? FileIO.listDirectory(name.isEmpty ? path : file(name))) ?? []
    }

    func remove() { FileIO.removeTree(path) }
}

func readBytes(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        if n <= 0 { break }
        result.append(contentsOf: chunk[0..<n])
    }
    return result
}


/// Runs a plan on a fresh in-process engine and returns the output lines.
func runPlan(
    _ plan: JobPlan, workers: Int = 2, reducers: Int = 3, splitSize: Int64 = 1 << 20, memoryBudget: Int = 1 << 20,
    scratch: String, standardInput: Int32? = nil
) async throws -> (lines: [String], summary: JobSummary) {
    let options = EngineOptions(
        workers: workers, settings: JobSettings(reducers: reducers, splitSize: splitSize, memoryBudget: memoryBudget),
        scratchDirectory: scratch)
    let engine = try Engine(options: options)
    let sink = CollectingSink()
    let summary = try await engine.run(plan, standardInput: standardInput, output: sink)
    return (sink.lines, summary)
}

extension PartOutput {
    /// Names `holder` as the blob's holder (a file output has none), as a wrapping executor does.
    mutating func relabel(holder: String) {
        if case .blob(var location) = self {
            location.holder = BlobHolder(named: holder)
            self = .blob(location)
        }
    }
}

import Foundation
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Python 3 as an independent oracle for the CSV and JSON formats (its `csv` and `json` modules).
enum PythonOracle {
    static let path: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static var available: Bool { path != nil }

    /// Runs `script` with `arguments` (sys.argv[1...]); returns its standard output, failing the test with its
    /// standard error when it exits non-zero.
    static func run(_ script: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path ?? "/usr/bin/python3")
        process.arguments = ["-c", script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OracleError(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct OracleError: Error, CustomStringConvertible {
        let message: String
        var description: String { "python failed: \(message)" }
    }
}

/// The expected output file the oracle wrote: one record per line (no record holds a raw line break).
func expectedLines(_ path: String) -> [String] {
    let text = String(decoding: readBytes(path), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
}

/// Runs `ops` over each record of `records`, as byte arrays; a bad record yields nil.
func runEach(_ ops: [RecordOp], _ records: [[UInt8]]) throws -> [[UInt8]?] {
    var pipeline = try RecordPipeline(ops)
    return records.map { record in
        try? collectChecked(&pipeline, record).first ?? []
    }
}

/// `collect` through `processChecked`: a bad record throws `EngineError.badRecord`.
func collectChecked(_ pipeline: inout RecordPipeline, _ record: [UInt8]) throws -> [[UInt8]] {
    var outputs: [[UInt8]] = []
    try record.withUnsafeBytes { rec in
        try pipeline.processChecked(rec, file: Bytes.empty) { outputs.append(Array($0)) }
    }
    return outputs
}

/// The CSV records of a whole file, as `LineReader.forEachCSVRecord` reads them.
func csvRecords(_ path: String, skipHeader: Bool = false, offset: Int64 = 0, length: Int64? = nil) throws -> [[UInt8]] {
    var reader = try LineReader(path: path, offset: offset, length: length ?? (FileIO.size(of: path) ?? 0) - offset, bufferSize: 64)
    var records: [[UInt8]] = []
    try reader.forEachCSVRecord(skipFirst: skipHeader) { record in
        records.append(Array(record))
        return true
    }
    return records
}

import Foundation
import Synchronization
import MrshTestSupport
import Testing

/// Runs the built `mrsh` binary as a child process and captures what it prints.
struct MrshProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The repository root (this file is Tests/MrshEndToEndTests/MrshProcess.swift).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `mrsh` executable built next to the test bundle (or `$MRSH_BINARY`).
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["MRSH_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("mrsh")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/mrsh")
    }()

    /// Runs `mrsh ARGUMENTS` in `directory` (default: the repository root) with `input` on standard input.
    /// Gives up (and fails) after `timeout` seconds.
    static func run(
        _ arguments: [String], input: Data? = nil, directory: URL? = nil, environment: [String: String] = [:],
        timeout: Double = 60
    ) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["MRSH_HISTORY"] = "/dev/null"
        for (key, value) in environment { env[key] = value }
        return try launch(
            binary.path, arguments, input: input, directory: directory ?? repositoryRoot, environment: env,
            timeout: timeout)
    }

    /// Runs `mrsh ARGUMENTS` as the ordinary user `nobody` (see `Unprivileged`) in `directory`, which that
    /// user owns, with exactly `environment` (an ordinary login's, not root's). `binary` is the copy of mrsh
    /// that user can execute.
    static func runUnprivileged(
        binary: String, _ arguments: [String], input: Data? = nil, directory: String, environment: [String: String],
        timeout: Double = 60
    ) throws -> Result {
        let (executable, wrapped) = Unprivileged.command(binary, arguments)
        return try launch(
            executable, wrapped, input: input, directory: URL(fileURLWithPath: directory), environment: environment,
            timeout: timeout)
    }

    private static func launch(
        _ executable: String, _ arguments: [String], input: Data?, directory: URL, environment: [String: String],
        timeout: Double
    ) throws -> Result {
        BrokenPipes.ignore()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            let handle = stdin.fileHandleForWriting
            DispatchQueue.global().async {
                try? handle.write(contentsOf: input)
                try? handle.close()
            }
        }
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let outBox = DataBox()
        let errBox = DataBox()
        let group = DispatchGroup()
        for (pipe, box) in [(stdout, outBox), (stderr, errBox)] {
            group.enter()
            DispatchQueue.global().async {
                box.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            Issue.record("mrsh \(arguments) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outBox.get(), as: UTF8.self),
            stderr: String(decoding: errBox.get(), as: UTF8.self))
    }
}

/// A thread-safe holder for pipe output.
final class DataBox: Sendable {
    private let data = Mutex(Data())
    func set(_ value: Data) { data.withLock { $0 = value } }
    func get() -> Data { data.withLock { $0 } }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func write(_ name: String, _ text: String) throws {
        let target = file(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: target)
    }
    func write(_ name: String, bytes: [UInt8]) throws {
        let target = file(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

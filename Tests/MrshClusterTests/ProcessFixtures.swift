import Foundation
import Glibc
import MrshCluster
import MrshDataPath
import MrshTestSupport
import Synchronization
import Testing

/// The built `mrsh` executable (next to the test bundle, or `$MRSH_BINARY`).
let mrshBinary: String = {
    if let path = ProcessInfo.processInfo.environment["MRSH_BINARY"] { return path }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("mrsh")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        directory = directory.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/mrsh").path
}()

/// A child process whose standard output and error are collected as they arrive.
final class Child: Sendable {
    let process: Process
    private let out = DataBuffer()
    private let err = DataBuffer()
    private let drained = DispatchGroup()

    /// Starts `executable arguments` in `directory`; standard input is /dev/null unless `stdin` is given;
    /// `environment` adds to this process's environment.
    /// With `replacingEnvironment`, `environment` is the child's whole environment.
    init(
        _ executable: String, _ arguments: [String], directory: String? = nil, stdin: Pipe? = nil,
        environment: [String: String] = [:], replacingEnvironment: Bool = false
    ) throws {
        BrokenPipes.ignore()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if replacingEnvironment {
            process.environment = environment
        } else if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = stdin ?? FileHandle.nullDevice
        self.process = process
        try process.run()
        for (pipe, box) in [(outPipe, out), (errPipe, err)] {
            drained.enter()
            let handle = pipe.fileHandleForReading
            let group = drained
            Thread.detachNewThread {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    box.append(chunk)
                }
                group.leave()
            }
        }
    }

    convenience init(
        mrsh arguments: [String], directory: String? = nil, stdin: Pipe? = nil, environment: [String: String] = [:]
    ) throws {
        try self.init(mrshBinary, arguments, directory: directory, stdin: stdin, environment: environment)
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { out.text }
    var stderr: String { err.text }

    /// Waits for the exit (killing the process after `timeout` seconds); returns the status.
    @discardableResult
    func wait(timeout: Double = 60) async -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            Issue.record("process \(process.arguments ?? []) did not finish within \(timeout) s")
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        _ = drained.wait(timeout: .now() + 5)
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A value behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    func set(_ value: Value) { storage.withLock { $0 = value } }
    func append<Element>(_ element: Element) where Value == [Element] { storage.withLock { $0.append(element) } }
}

/// Bytes appended by one thread and read by others.
final class DataBuffer: Sendable {
    private let data = Mutex(Data())
    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
}

/// Polls `condition` every 20 ms for up to `seconds`; returns whether it became true.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// The first match of `pattern`'s first capture group in `text`.
func firstCapture(_ pattern: String, in text: String) -> String? {
    guard let regex = try? NSRegularExpression(pattern: pattern),
        let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), match.numberOfRanges > 1,
        let range = Range(match.range(at: 1), in: text)
    else { return nil }
    return String(text[range])
}

/// Regular files anywhere under `path` (empty when it does not exist).
func filesUnder(_ path: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
    var files: [String] = []
    while let item = walker.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path + "/" + item, isDirectory: &isDirectory), !isDirectory.boolValue {
            files.append(item)
        }
    }
    return files
}

/// A coordinator process and worker processes of the built binary on loopback, each with its own scratch
/// directory under `directory`.
final class ProcessCluster: Sendable {
    let directory: String
    let tokenFile: String
    let coordinator: Child
    /// Added to the environment of every process of the cluster.
    let environment: [String: String]
    private let address = Locked("")
    private let workers = Locked<[Child]>([])
    private let shuffle = Locked<[String: String]>([:])
    /// The coordinator's address (from its start-up line).
    var coordinatorAddress: String { address.value }
    var workerProcesses: [Child] { workers.value }
    /// Worker id -> shuffle server address, from the workers' logs.
    var shuffleAddresses: [String: String] { shuffle.value }

    /// Starts the processes and waits until every worker registered.
    /// `workerArguments`: more arguments for every worker (`--allow-stream`).
    /// `environment`: added to every process's (the clients' too). `join`: the address workers join, made
    /// from the coordinator's (a relay in front of it); the coordinator's own by default.
    static func start(
        workers count: Int, slots: Int = 1, workerArguments: [String] = [], environment: [String: String] = [:],
        join: (String) throws -> String = { $0 }
    ) async throws -> ProcessCluster {
        let cluster = try ProcessCluster(workers: count, slots: slots, environment: environment)
        let coordinator = cluster.coordinator
        guard await eventually(15, { firstCapture("mrsh coordinator: listening on (\\S+)", in: coordinator.stderr) != nil }),
            let address = firstCapture("mrsh coordinator: listening on (\\S+)", in: coordinator.stderr)
        else {
            coordinator.stop()
            throw EngineError.failed("the coordinator did not start: \(coordinator.stderr)")
        }
        cluster.address.set(address)
        let joined = try join(address)
        for i in 0..<count {
            cluster.workers.append(
                try Child(
                    mrsh: [
                        "worker", "--join", joined, "--token-file", cluster.tokenFile, "--slots", "\(slots)", "--id", "w\(i)",
                        "--scratch", cluster.directory + "/worker-\(i)",
                    ] + workerArguments, environment: environment))
        }
        let workers = cluster.workers.value
        var addresses: [String: String] = [:]
        let ready = await eventually(15) {
            for (i, w) in workers.enumerated() {
                if let a = firstCapture("registered as w\(i) .*shuffle server (\\S+)", in: w.stderr) { addresses["w\(i)"] = a }
            }
            return addresses.count == count
        }
        if !ready {
            for w in workers { w.stop() }
            coordinator.stop()
            throw EngineError.failed("workers did not register: \(workers.map(\.stderr))")
        }
        cluster.shuffle.set(addresses)
        return cluster
    }

    private init(workers count: Int, slots: Int, environment: [String: String]) throws {
        self.environment = environment
        directory = try makeTempDirectory()
        tokenFile = directory + "/token"
        try writeTokenFile("process-cluster-token\n", to: tokenFile)
        try FileManager.default.createDirectory(atPath: directory + "/coordinator", withIntermediateDirectories: true)
        coordinator = try Child(mrsh: [
            "coordinator", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--scratch", directory + "/coordinator",
            "--heartbeat-interval", "0.2", "--heartbeat-timeout", "5",
        ], environment: environment)
    }

    /// `mrsh --cluster ADDRESS --token-file FILE ARGUMENTS` in `directory` (`through`: another address than the
    /// coordinator's, a relay in front of it).
    func client(_ arguments: [String], directory: String? = nil, stdin: Pipe? = nil, through: String? = nil) throws -> Child {
        try Child(
            mrsh: ["--cluster", through ?? address.value, "--token-file", tokenFile] + arguments, directory: directory, stdin: stdin,
            environment: environment)
    }

    /// Kills the coordinator and the workers, waits for them, and removes the cluster's directory
    /// (synchronous, so a `defer` cleans up even when the test fails early).
    func stop() {
        coordinator.stop()
        for w in workers.value { w.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Deterministic text: `lines` lines of words drawn from a small vocabulary with a skewed distribution.
func generatedText(lines: Int, seed: UInt64) -> String {
    let vocabulary = [
        "alpha", "beta", "gamma", "delta", "error", "warning", "map", "reduce", "shuffle", "worker", "coordinator",
        "split", "part", "record", "key", "value", "zeta", "eta", "theta", "iota",
    ]
    var state = seed | 1
    func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    var text = ""
    for _ in 0..<lines {
        let n = Int(next() % 8) + 1
        var words: [String] = []
        for _ in 0..<n {
            let r = Int(next() % 400)
            let index = r < 200 ? r % 4 : r % vocabulary.count
            words.append(vocabulary[index] + (next() % 5 == 0 ? "\(next() % 50)" : ""))
        }
        text += words.joined(separator: next() % 3 == 0 ? ", " : " ") + "\n"
    }
    return text
}

/// Words as `map words` sees them in ASCII text: maximal runs of letters.
func asciiWords(_ line: Substring) -> [Substring] {
    line.split(whereSeparator: { !($0.isASCII && $0.isLetter) })
}

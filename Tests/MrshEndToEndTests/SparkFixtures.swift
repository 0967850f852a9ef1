import Foundation
import MrshTestSupport
import Synchronization
import Testing

/// What the Spark tests need: Java and `spark-submit` (`pip install pyspark`; `.ci/run` installs both).
enum SparkAvailability {
    /// Why the Spark tests cannot run here; nil when they can.
    static let reason: String? = {
        let environment = ProcessInfo.processInfo.environment
        let java = environment["JAVA_HOME"].map { $0 + "/bin/java" } ?? onPath("java")
        guard let java, FileManager.default.isExecutableFile(atPath: java) else {
            return "no Java (install openjdk-17-jre-headless or set JAVA_HOME): the Spark engine tests skip"
        }
        let submit = environment["SPARK_HOME"].map { $0 + "/bin/spark-submit" } ?? onPath("spark-submit")
        guard let submit, FileManager.default.isExecutableFile(atPath: submit) else {
            return "no spark-submit on PATH (pip install pyspark) and no SPARK_HOME: the Spark engine tests skip"
        }
        return nil
    }()

    static var available: Bool { reason == nil }
    static var comment: Comment { Comment(rawValue: reason ?? "Spark is available") }

    static func onPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// One Spark application for the whole test run: a real multi-process `local-cluster` (a master and two
/// worker JVMs with one executor each), kept in a session directory that every mrsh process of the suite
/// uses (`MRSH_SPARK_SESSION`), and that ends with this test process (`MRSH_SPARK_SESSION_OWNER`).
enum SharedSpark {
    static let master = "local-cluster[2,1,1024]"
    static let directory: String = {
        let temporary = FileManager.default.temporaryDirectory
        // Sessions of earlier test runs ended with their test process: remove their directories.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        where name.hasPrefix("mrsh-spark-tests-") {
            if let pid = Int32(name.dropFirst("mrsh-spark-tests-".count)), pid != getpid(), kill(pid, 0) != 0 {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        atexit { SharedSpark.end() }
        return temporary.appendingPathComponent("mrsh-spark-tests-\(getpid())").path
    }()

    /// At the test process's exit: stops the session's driver (as its end of ownership would, a second later)
    /// and removes the session directory, instead of leaving its 130 MB for the next run to remove.
    static func end() {
        let path = directory
        if let text = try? String(contentsOfFile: path + "/driver.pid", encoding: .utf8), let pid = Int32(text), pid > 0 {
            let fifo = open(path + "/requests", O_WRONLY | O_NONBLOCK)
            if fifo >= 0 {
                _ = "stop\n".withCString { write(fifo, $0, 5) }
                close(fifo)
            }
            let deadline = Date().addingTimeInterval(15)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
            kill(-pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The environment of an mrsh process on the shared session.
    static var environment: [String: String] {
        [
            "MRSH_ENGINE": "spark", "MRSH_SPARK_MASTER": master, "MRSH_SPARK_SESSION": directory,
            "MRSH_SPARK_SESSION_OWNER": String(getpid()), "MRSH_SPARK_IDLE": "300",
        ]
    }
}

/// Runs the mrsh binary and keeps its standard output as bytes (records may be any bytes).
struct BytesProcess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// A running mrsh process (for tests that act while a job runs).
    final class Running: Sendable {
        let process: Process
        private let out = DataBox()
        private let err = DataBox()
        private let group = DispatchGroup()

        init(_ arguments: [String], input: Data?, directory: URL, environment: [String: String]) throws {
            BrokenPipes.ignore()
            var env = ProcessInfo.processInfo.environment
            env["MRSH_HISTORY"] = "/dev/null"
            for key in ["MRSH_ENGINE", "MRSH_SPARK_MASTER", "MRSH_SPARK_SESSION"] { env[key] = nil }
            for (key, value) in environment { env[key] = value }
            let process = Process()
            process.executableURL = MrshProcess.binary
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = env
            let stdout = Pipe()
            let stderr = Pipe()
            let stdin = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = input == nil ? FileHandle.nullDevice : stdin
            self.process = process
            try process.run()
            if let input {
                let handle = stdin.fileHandleForWriting
                DispatchQueue.global().async {
                    try? handle.write(contentsOf: input)
                    try? handle.close()
                }
            }
            for (pipe, box) in [(stdout, out), (stderr, err)] {
                group.enter()
                DispatchQueue.global().async { [group] in
                    box.set(pipe.fileHandleForReading.readDataToEndOfFile())
                    group.leave()
                }
            }
        }

        /// Waits (blocking this thread, not a cooperative one: call it from `BytesProcess.offThread`) for the end.
        func wait(timeout: Double) -> Result {
            if group.wait(timeout: .now() + timeout) == .timedOut {
                process.terminate()
                Issue.record("mrsh \(process.arguments ?? []) did not finish within \(timeout) s")
                group.wait()
            }
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus, stdout: out.get(), stderr: String(decoding: err.get(), as: UTF8.self))
        }
    }

    static func run(
        _ arguments: [String], input: Data? = nil, directory: URL = MrshProcess.repositoryRoot,
        environment: [String: String] = [:], timeout: Double = 120
    ) async throws -> Result {
        let running = try Running(arguments, input: input, directory: directory, environment: environment)
        return await offThread { running.wait(timeout: timeout) }
    }

    /// Runs blocking work on a Dispatch thread, so that no cooperative thread waits on a process.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}

/// The bytes of every file of an output directory, by name.
func directoryContents(_ path: String) -> [String: Data] {
    var contents: [String: Data] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
        contents[name] = FileManager.default.contents(atPath: path + "/" + name)
    }
    return contents
}

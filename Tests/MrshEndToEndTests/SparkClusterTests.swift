#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshTestSupport
import Testing

/// mrsh on the Spark clusters users have: a standalone master with two workers on loopback (`spark://`), and
/// `local-cluster` run by an ordinary user from a Spark install that user may read but not write.
@Suite("Spark clusters", .serialized, .enabled(if: SparkAvailability.available, SparkAvailability.comment))
struct SparkClusterTests {
    /// Several jobs in one script (one Spark application), on the tricky inputs of `SparkEngineTests`.
    static let script = SparkEngineTests.trickyPipelines.joined(separator: "\n") + "\n"
        + #"read "in/*" | map words | reduce count | write counted-ENGINE"# + "\n"

    @Test("a standalone master and two workers on loopback (spark://): the same bytes as natively")
    func standaloneCluster() async throws {
        let home = try #require(SparkInstall.home, "no Spark home found (SPARK_HOME or pip's pyspark)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try SparkEngineTests.makeTrickyInputs(directory)
        for engine in ["native", "spark"] {
            try directory.write("\(engine).mr", Self.script.replacingOccurrences(of: "ENGINE", with: engine))
        }
        let cluster = try await StandaloneSpark.start(home: home, in: directory.file("cluster").path, workers: 2)
        defer { cluster.stop() }

        let options = ["--split-size", "4K", "--reducers", "3", "--quiet"]
        let native = try await BytesProcess.run(["run", "native.mr"] + options, directory: directory.url)
        let spark = try await BytesProcess.run(
            ["run", "spark.mr"] + options, directory: directory.url,
            environment: ["MRSH_ENGINE": "spark", "MRSH_SPARK_MASTER": cluster.master, "SPARK_LOCAL_IP": "127.0.0.1"],
            timeout: 400)
        #expect(native.status == 0, "native: \(native.stderr)")
        #expect(spark.status == 0, "spark on \(cluster.master): \(spark.stderr)")
        #expect(!native.stdout.isEmpty)
        #expect(spark.stdout == native.stdout, "Spark's standalone output differs from the native engine's")
        let written = directoryContents(directory.file("counted-spark").path)
        #expect(written.keys.contains("_SUCCESS") && written == directoryContents(directory.file("counted-native").path))
        // The application ran on the cluster's workers: each worker directory holds an executor of it.
        let executorDirectories = (0..<2).map { worker in
            (try? FileManager.default.contentsOfDirectory(atPath: cluster.workDirectory(worker))) ?? []
        }
        #expect(executorDirectories.allSatisfy { $0.contains { $0.hasPrefix("app-") } }, "\(executorDirectories)")
    }

    @Test("an ordinary user runs local-cluster from a Spark install they cannot write: same answer, nothing left")
    func unprivilegedLocalCluster() async throws {
        guard Unprivileged.isAvailable else { return }
        let home = try #require(SparkInstall.home, "no Spark home found (SPARK_HOME or pip's pyspark)")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/java")
        else { return }
        // A system-wide install: root's files, readable by everyone, writable by nobody else.
        let install = try SparkInstall.readableCopy(of: home)
        defer { Unprivileged.remove(install) }
        let user = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-spark-nobody")
        defer { Unprivileged.remove(user) }
        let binary = try Unprivileged.reachableBinary(MrshProcess.binary.path, copyInto: user)
        let input = GeneratedDataTests.generateText(lines: 2000, seed: 23)
        try Unprivileged.writeOwnedFile(user + "/in.txt", Data(input.utf8))
        try FileManager.default.createDirectory(atPath: user + "/tmp", withIntermediateDirectories: false)
        try Unprivileged.giveTree(user + "/tmp")
        let environment = Unprivileged.environment(
            home: user, temporary: user + "/tmp",
            extra: ["PATH": "/usr/bin:/bin", "SPARK_HOME": install + "/pyspark", "PYSPARK_PYTHON": "/usr/bin/python3"])
        let pipeline = #"read "in.txt" | map words | reduce count | sort by $2 desc, $1"#
        let native = try MrshProcess.run(["-e", pipeline, "--split-size", "16K", "--quiet"], directory: URL(fileURLWithPath: user))
        let spark = try await BytesProcess.offThread {
            Result {
                try MrshProcess.runUnprivileged(
                    binary: binary,
                    ["--engine", "spark", "--master", "local-cluster[2,1,1024]", "-e", pipeline, "--split-size", "16K", "--quiet"],
                    directory: user, environment: environment, timeout: 300)
            }
        }.get()
        #expect(native.status == 0, "\(native.stderr)")
        #expect(spark.status == 0, "as nobody: \(spark.stderr)")
        #expect(spark.stdout == native.stdout && !native.stdout.isEmpty)
        // Executor directories, Spark's local files and the log went with the session: nothing is left.
        #expect(!FileManager.default.fileExists(atPath: install + "/pyspark/work"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: user + "/tmp") == [])
    }
}

/// Where the Spark the tests use is installed.
enum SparkInstall {
    /// `SPARK_HOME`, else the directory of pip's `pyspark` (the Python `spark-submit` runs with).
    static let home: String? = {
        if let home = ProcessInfo.processInfo.environment["SPARK_HOME"], !home.isEmpty { return home }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && FileManager.default.fileExists(atPath: path + "/jars") ? path : nil
    }()

    /// A copy of the install at DIR/pyspark (hard links where the file system allows, so it costs no space),
    /// in a directory every user may read and none but root may write, as a system-wide install is. It has no
    /// `work` directory: Spark would need to make one.
    static func readableCopy(of home: String) throws -> String {
        var template = Array("/tmp/mrsh-spark-install-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Unprivileged.Failure("mkdtemp: errno \(errno)") }
        let directory = String(cString: made)
        guard chmod(directory, 0o755) == 0 else { throw Unprivileged.Failure("chmod \(directory): errno \(errno)") }
        let target = directory + "/pyspark"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        for entry in try FileManager.default.contentsOfDirectory(atPath: home) where entry != "work" {
            let copy = Process()
            copy.executableURL = URL(fileURLWithPath: "/bin/cp")
            // Hard links (-l) on the same file system, a real copy otherwise.
            copy.arguments = ["-al", home + "/" + entry, target + "/"]
            copy.standardError = FileHandle.nullDevice
            try copy.run()
            copy.waitUntilExit()
            if copy.terminationStatus != 0 {
                let plain = Process()
                plain.executableURL = URL(fileURLWithPath: "/bin/cp")
                plain.arguments = ["-a", home + "/" + entry, target + "/"]
                try plain.run()
                plain.waitUntilExit()
                guard plain.terminationStatus == 0 else { throw Unprivileged.Failure("cannot copy \(home)/\(entry)") }
            }
        }
        return directory
    }
}

/// A standalone Spark cluster on loopback: one master and `workers` workers of one core each, every file of
/// theirs (logs, work and local directories) under one directory.
final class StandaloneSpark {
    let master: String
    let directory: String
    let processes: [Process]

    private init(master: String, directory: String, processes: [Process]) {
        self.master = master
        self.directory = directory
        self.processes = processes
    }

    func workDirectory(_ worker: Int) -> String { directory + "/worker-\(worker)/work" }

    static func start(home: String, in directory: String, workers: Int) async throws -> StandaloneSpark {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["SPARK_HOME"] = home
        environment["SPARK_LOCAL_IP"] = "127.0.0.1"
        environment["SPARK_LOG_DIR"] = directory + "/logs"
        func launch(_ arguments: [String], log: String, local: String?) throws -> Process {
            var env = environment
            if let local {
                try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
                env["SPARK_LOCAL_DIRS"] = local
            }
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: home + "/bin/spark-class")
            process.arguments = arguments
            process.environment = env
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return process
        }
        var processes: [Process] = []
        let cleanup = { for process in processes where process.isRunning { process.terminate() } }
        do {
            let masterLog = directory + "/master.log"
            processes.append(try launch(
                ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", "0", "--webui-port", "0"],
                log: masterLog, local: nil))
            // "Starting Spark master at spark://127.0.0.1:PORT"
            let url = try await waitFor(in: masterLog, timeout: 120) { text -> String? in
                guard let range = text.range(of: "Starting Spark master at ") else { return nil }
                return String(text[range.upperBound...].prefix { !$0.isWhitespace })
            }
            for worker in 0..<workers {
                let base = directory + "/worker-\(worker)"
                try FileManager.default.createDirectory(atPath: base + "/work", withIntermediateDirectories: true)
                processes.append(try launch(
                    ["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                     "--work-dir", base + "/work", "--webui-port", "0"],
                    log: base + ".log", local: base + "/local"))
            }
            _ = try await waitFor(in: masterLog, timeout: 120) { text -> Bool? in
                text.components(separatedBy: "Registering worker").count - 1 >= workers ? true : nil
            }
            return StandaloneSpark(master: url, directory: directory, processes: processes)
        } catch {
            cleanup()
            throw error
        }
    }

    /// Polls a log file until `match` finds what it waits for (a condition, not a fixed sleep).
    private static func waitFor<T>(in path: String, timeout: Double, _ match: (String) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let found = match(text) { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        let tail = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(2000)
        throw Unprivileged.Failure("the standalone Spark cluster did not start within \(timeout) s: \(tail)")
    }

    /// Ends the workers (which end their executors) and the master.
    func stop() {
        for process in processes.reversed() where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

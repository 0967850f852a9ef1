#if canImport(Glibc)
import Glibc
#endif
import CMrshShims
import Foundation
import MrshDataPath

/// How to reach Spark: `--master`, the session directory, timeouts (the CLI fills it from flags and
/// `MRSH_SPARK_*`).
public struct SparkSettings: Sendable {
    /// The master URL: `local[*]`, `local-cluster[2,1,1024]`, `spark://host:port`, ...
    public var master: String
    /// The mrsh binary every executor runs (shipped with `--files`).
    public var binary: String
    /// Where a session of this process lives (removed at its end).
    public var scratch: String
    /// A session directory shared by several mrsh processes (`MRSH_SPARK_SESSION`): used when a session runs
    /// there, started there (and left running until idle) otherwise. nil: a session of this process.
    public var sharedDirectory: String?
    /// How long starting Spark may take, executors registered included.
    public var startTimeout: Duration = .seconds(180)
    /// A shared session ends after this long without a job.
    public var idleTimeout: Duration = .seconds(600)
    /// A shared session also ends when this process ends (`MRSH_SPARK_SESSION_OWNER`); 0: none.
    public var sharedOwner: Int32 = 0
    /// `spark.task.maxFailures`.
    public var maxAttempts: Int = 4
    /// More `--conf KEY=VALUE` settings (`MRSH_SPARK_CONF`, separated by spaces).
    public var configuration: [String] = []
    /// Where the session's log goes (nil: a file in TMPDIR, removed after a session without errors).
    public var logPath: String?
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    public init(master: String, binary: String, scratch: String) {
        self.master = master
        self.binary = binary
        self.scratch = scratch
    }
}

/// One running Spark application with mrsh's driver program (`SparkDriverProgram`), started with
/// `spark-submit` in a process group of its own; jobs go to it through FIFOs in its directory. Every Spark,
/// Python and JVM message goes to its log file, never to the terminal.
public final class SparkSession: Sendable {
    public let directory: String
    public let logPath: String
    /// Spark's default parallelism: the task slots of the cluster.
    public let parallelism: Int
    public let application: String
    public let master: String
    /// The spark-submit process (the driver's JVM), when this process started it and ends it.
    let driver: pid_t?
    /// The driver's process id as the session directory records it.
    let driverID: pid_t
    let keepsLog: Bool

    private init(
        directory: String, logPath: String, parallelism: Int, application: String, master: String, driver: pid_t?,
        driverID: pid_t, keepsLog: Bool
    ) {
        self.directory = directory
        self.logPath = logPath
        self.parallelism = parallelism
        self.application = application
        self.master = master
        self.driver = driver
        self.driverID = driverID
        self.keepsLog = keepsLog
    }

    // MARK: start

    /// Starts a session (or, with `sharedDirectory`, uses the one running there). Blocking: run it off the
    /// cooperative pool (`Offload`). Throws `EngineError.failed` with one line naming the cause and the log.
    public static func start(_ settings: SparkSettings, cancel: CancellationFlag? = nil) throws -> SparkSession {
        let environment = settings.environment
        _ = try SparkTools.java(environment)
        let submit = try SparkTools.sparkSubmit(environment)
        guard let shared = settings.sharedDirectory else {
            let directory = settings.scratch + "/spark-session"
            try FileIO.makeDirectories(directory)
            let log = settings.logPath ?? FileIO.temporaryDirectory + "/mrsh-spark-\(getpid())-\(BlobStore.uniqueSuffix()).log"
            return try launch(
                settings, submit: submit, directory: directory, log: log, parent: getpid(), idle: nil,
                keepsLog: settings.logPath != nil, cancel: cancel)
        }
        try FileIO.makeDirectories(shared)
        // One mrsh process at a time starts the shared session; the others then find it ready.
        let lock = open(shared + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw EngineError.failed("cannot use the Spark session directory '\(shared)': \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN) }
        if let running = attach(shared, settings: settings) { return running }
        for name in ["ready", "failed", "driver.pid", "binary", "requests"] { FileIO.unlinkQuietly(shared + "/" + name) }
        return try launch(
            settings, submit: submit, directory: shared, log: settings.logPath ?? shared + "/driver.log",
            parent: settings.sharedOwner, idle: settings.idleTimeout, keepsLog: true, cancel: cancel)
    }

    /// The session running in `directory` with this binary, if there is one.
    private static func attach(_ directory: String, settings: SparkSettings) -> SparkSession? {
        guard let ready = try? String(contentsOfFile: directory + "/ready", encoding: .utf8),
            let pidText = try? String(contentsOfFile: directory + "/driver.pid", encoding: .utf8),
            let pid = pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0,
            (try? String(contentsOfFile: directory + "/binary", encoding: .utf8)) == binaryIdentity(settings.binary),
            let info = try? JSONDecoder().decode(ReadyInfo.self, from: Data(ready.utf8))
        else { return nil }
        return SparkSession(
            directory: directory, logPath: settings.logPath ?? directory + "/driver.log", parallelism: info.parallelism,
            application: info.app, master: info.master ?? settings.master, driver: nil, driverID: pid, keepsLog: true)
    }

    private struct ReadyInfo: Codable {
        var parallelism: Int
        var app: String
        var master: String?
    }

    /// The binary's path, size and modification time: a shared session serves only the binary it shipped.
    static func binaryIdentity(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return path }
        return "\(path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    private static func launch(
        _ settings: SparkSettings, submit: String, directory: String, log: String, parent: Int32, idle: Duration?,
        keepsLog: Bool, cancel: CancellationFlag?
    ) throws -> SparkSession {
        let driverPath = directory + "/" + SparkDriverProgram.fileName
        try writeFile(Data(SparkDriverProgram.source.utf8), driverPath)
        let requests = directory + "/requests"
        FileIO.unlinkQuietly(requests)
        guard mkfifo(requests, 0o600) == 0 else {
            throw EngineError.failed("cannot make the FIFO '\(requests)': \(String(cString: strerror(errno)))")
        }
        try writeFile(Data(binaryIdentity(settings.binary).utf8), directory + "/binary")
        let logFD = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard logFD >= 0 else { throw EngineError.failed("cannot write Spark's log '\(log)': \(String(cString: strerror(errno)))") }
        defer { close(logFD) }
        let nullFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if nullFD >= 0 { close(nullFD) } }
        var environment = settings.environment
        var submit = submit
        var local: [String] = []
        let localDirectory = directory + "/local"
        FileIO.removeTree(localDirectory)
        _ = try? FileIO.makeDirectories(localDirectory)
        // The driver's own scratch (its copy of the files it ships: the mrsh binary, 60 MB) goes with the
        // session, where mrsh removes it even when the driver had to be killed: Spark's default is the JVM's
        // /tmp. Only the driver reads this variable: executors on a cluster get their directories from
        // their worker (standalone, YARN, Kubernetes). A SPARK_LOCAL_DIRS the user set wins.
        if (environment["SPARK_LOCAL_DIRS"] ?? "").isEmpty { environment["SPARK_LOCAL_DIRS"] = localDirectory }
        if settings.master.hasPrefix("local") {
            // Spark's block manager files of a local master go with the session too, and local-cluster's
            // executor directories (`SparkSessionHome`).
            local = ["--conf", "spark.local.dir=\(localDirectory)"]
            // Nothing of a local master listens beyond loopback (Spark's RPC, its UIs, local-cluster's workers).
            if (environment["SPARK_LOCAL_IP"] ?? "").isEmpty { environment["SPARK_LOCAL_IP"] = "127.0.0.1" }
            if settings.master.hasPrefix("local-cluster"),
                let home = SparkSessionHome.make(at: directory + "/spark-home", submit: submit, environment: environment)
            {
                environment["SPARK_HOME"] = home
                submit = home + "/bin/spark-submit"
            }
        }
        var arguments = [
            submit, "--master", settings.master, "--name", "mrsh", "--files", settings.binary,
            "--conf", "spark.task.maxFailures=\(max(1, settings.maxAttempts))",
            "--conf", "spark.ui.showConsoleProgress=false",
        ] + local
        for setting in settings.configuration { arguments += ["--conf", setting] }
        arguments += [driverPath, directory, String(settings.binary.split(separator: "/").last ?? "mrsh")]
        environment["MRSH_SPARK_PARENT"] = String(parent)
        environment["MRSH_SPARK_IDLE"] = idle.map { String($0.components.seconds) } ?? "0"
        environment["PYTHONUNBUFFERED"] = "1"
        let pid = try spawn(arguments, environment: environment, output: logFD, input: nullFD)
        try writeFile(Data(String(pid).utf8), directory + "/driver.pid")
        let deadline = ContinuousClock.now + settings.startTimeout
        var status: Int32 = 0
        while true {
            if let text = try? String(contentsOfFile: directory + "/ready", encoding: .utf8),
                let info = try? JSONDecoder().decode(ReadyInfo.self, from: Data(text.utf8))
            {
                return SparkSession(
                    directory: directory, logPath: log, parallelism: max(1, info.parallelism), application: info.app,
                    master: settings.master, driver: parent == getpid() ? pid : nil, driverID: pid, keepsLog: keepsLog)
            }
            let failed = try? String(contentsOfFile: directory + "/failed", encoding: .utf8)
            let exited = waitpid(pid, &status, WNOHANG) == pid
            if failed != nil || exited || ContinuousClock.now > deadline || cancel?.isCancelled == true {
                if !exited { endGroup(pid) }
                if cancel?.isCancelled == true {
                    // Nothing failed: the log of a start given up on goes with it.
                    if !keepsLog { FileIO.unlinkQuietly(log) }
                    throw EngineError.cancelled
                }
                let cause = explain(
                    logText(log), failed: failed, master: settings.master,
                    timedOut: !exited && failed == nil ? settings.startTimeout : nil)
                throw EngineError.failed("cannot start Spark: \(cause) (Spark's log: \(log))")
            }
            usleep(50_000)
        }
    }

    /// What went wrong at start, in one phrase, from the driver's own note and the log.
    static func explain(_ log: String, failed: String?, master: String, timedOut: Duration?) -> String {
        if log.contains("JAVA_HOME is not set") || log.contains("java: not found") || log.contains("java: No such file") {
            return "Java was not found (install openjdk-17-jre-headless or set JAVA_HOME)"
        }
        if log.contains("Could not parse Master URL") || log.contains("Master must either be yarn or start with") {
            return "'\(master)' is not a master URL Spark knows (local[*], local-cluster[N,C,MB], spark://HOST:PORT, ...)"
        }
        if log.contains("Failed to connect to master") || log.contains("All masters are unresponsive") {
            return "cannot reach the Spark master at \(master)"
                + (timedOut.map { " (no executor within \($0.components.seconds) s)" } ?? "")
        }
        if log.contains("No module named") && log.contains("pyspark") { return "Python cannot import pyspark" }
        if let timedOut { return "no executor of \(master) was ready within \(timedOut.components.seconds) s" }
        if let failed, !failed.isEmpty { return failed.replacingOccurrences(of: "\n", with: " ") }
        return "spark-submit ended before Spark was ready" + (firstError(log).map { ": " + $0 } ?? "")
    }

    /// The first error the log reports, without its logger's prefix, never a stack frame: Spark's own
    /// `ERROR Class: message` line, else the first exception's `Name: message` line.
    static func firstError(_ log: String) -> String? {
        let lines = log.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        if let line = lines.first(where: { $0.contains(" ERROR ") }), let range = line.range(of: " ERROR ") {
            let message = line[range.upperBound...]
            let text = message.firstIndex(of: ":").map { message[message.index(after: $0)...] } ?? message
            return String(text.trimmingCharacters(in: .whitespaces).prefix(300))
        }
        let exception = lines.first { line in
            !line.hasPrefix("at ") && (line.contains("Exception: ") || line.contains("Error: "))
        }
        return exception.map { String($0.prefix(300)) }
    }

    static func logText(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    private static func spawn(_ arguments: [String], environment: [String: String], output: Int32, input: Int32) throws -> pid_t {
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let error = argv.withUnsafeBufferPointer { args in
            envp.withUnsafeBufferPointer { env in
                // Safe: the buffers of non-empty arrays have base addresses.
                mrsh_spawn_piped_group(&pid, arguments[0], args.baseAddress!, env.baseAddress!, nil, input, output, output, 1)
            }
        }
        guard error == 0 else {
            throw EngineError.failed("cannot start '\(arguments[0])': \(String(cString: strerror(error)))")
        }
        return pid
    }

    /// Kills the driver's process group (spark-submit, the JVM, Python, local executors) and reaps it.
    static func endGroup(_ pid: pid_t) {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    // MARK: jobs

    /// True while the driver runs.
    var isAlive: Bool {
        if let driver {
            var status: Int32 = 0
            return waitpid(driver, &status, WNOHANG) == 0
        }
        return kill(driverID, 0) == 0
    }

    /// Runs one job request and returns the driver's answer. Blocking (run it in `Offload`); cancelling sends
    /// the driver a cancel of the job's group and waits for its end.
    func submit(_ request: SparkJobRequest, cancel: CancellationFlag?) throws -> SparkJobAnswer {
        let name = "job-\(request.tag)-\(BlobStore.uniqueSuffix())"
        let requestPath = directory + "/" + name + ".json"
        let responsePath = directory + "/" + name + ".answer"
        try Self.writeFile(try JSONEncoder().encode(request), requestPath)
        defer { FileIO.unlinkQuietly(requestPath) }
        guard mkfifo(responsePath, 0o600) == 0 else {
            throw EngineError.failed("cannot make the FIFO '\(responsePath)': \(String(cString: strerror(errno)))")
        }
        defer { FileIO.unlinkQuietly(responsePath) }
        // Read and write: the open never waits for the driver, and the FIFO never reads as ended before it answers.
        let response = open(responsePath, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard response >= 0 else { throw EngineError.failed("cannot open '\(responsePath)': \(String(cString: strerror(errno)))") }
        defer { close(response) }
        try send("job \(requestPath) \(responsePath)\n")
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var cancelledAt: ContinuousClock.Instant?
        while true {
            var poller = pollfd(fd: response, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 250)
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { read(response, $0.baseAddress, $0.count) }
                if count > 0 {
                    received += buffer[0..<count]
                    if received.last == 0x0A { break }
                }
                continue
            }
            if cancel?.isCancelled == true, cancelledAt == nil {
                cancelledAt = .now
                try? send("cancel \(request.tag)\n")
            }
            if let cancelledAt, ContinuousClock.now - cancelledAt > .seconds(60) { throw EngineError.cancelled }
            if !isAlive { throw EngineError.failed("the Spark driver ended during the job (Spark's log: \(logPath))") }
        }
        if cancelledAt != nil { throw EngineError.cancelled }
        do {
            return try JSONDecoder().decode(SparkJobAnswer.self, from: Data(received))
        } catch {
            throw EngineError.failed("the Spark driver's answer does not decode: \(error) (Spark's log: \(logPath))")
        }
    }

    /// Writes one line to the driver's request FIFO (shorter than PIPE_BUF, so lines of several clients never mix).
    private func send(_ line: String) throws {
        let fd = open(directory + "/requests", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw EngineError.failed("the Spark session has ended (Spark's log: \(logPath))") }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw EngineError.failed("cannot send a job to the Spark driver: \(String(cString: strerror(errno)))")
        }
    }

    static func writeFile(_ data: Data, _ path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw EngineError.failed("cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    // MARK: stop

    /// Ends a session this process started: asks the driver to stop, then ends its process group. A shared
    /// session keeps running (it ends when idle). `removeLog`: the session had no error worth its log.
    public func stop(removeLog: Bool) {
        guard let driver else { return }
        try? send("stop\n")
        let deadline = ContinuousClock.now + .seconds(15)
        var status: Int32 = 0
        while waitpid(driver, &status, WNOHANG) == 0 && ContinuousClock.now < deadline { usleep(50_000) }
        // Stragglers (Python workers, executors) of the group.
        kill(-driver, SIGKILL)
        _ = waitpid(driver, &status, WNOHANG)
        if removeLog && !keepsLog { FileIO.unlinkQuietly(logPath) }
    }
}

import ArgumentParser
import Foundation
import MrshPlan
import MrshShell

/// Options shared by every way of running jobs (`-e`, `run`, the shell).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Worker processes of the embedded engine (default: the number of cores).")
    var workers: Int?

    @Option(name: .long, help: "Reduce tasks per shuffle (default: one per 16 MiB of input, at most twice the workers).")
    var reducers: Int?

    @Option(name: .long, help: ArgumentHelp("Input split size, e.g. 32M or 1G.", valueName: "size"))
    var splitSize: ByteSizeArgument?

    @Option(name: .long, help: ArgumentHelp("Memory budget of one task before it spills sorted runs, e.g. 64M.", valueName: "size"))
    var memory: ByteSizeArgument?

    @Option(name: .long, help: ArgumentHelp("A join whose right side is at most this size loads it into every map task instead of shuffling both sides, e.g. 64M (default \(ByteSize.format(JobSettings.defaults.broadcastLimit))).", valueName: "size"))
    var broadcastLimit: ByteSizeArgument?

    @Option(name: .long, help: ArgumentHelp("Submit to the coordinator at HOST:PORT instead of the embedded engine (or MRSH_CLUSTER).", valueName: "host:port"))
    var cluster: String?

    @Option(name: .long, help: ArgumentHelp("File holding the cluster's token (or MRSH_TOKEN).", valueName: "file"))
    var tokenFile: String?

    @Option(name: .long, help: "Failed attempts of a task before its job fails (default \(JobSettings.defaults.maxAttempts)).")
    var maxAttempts: Int?

    @Flag(name: .long, help: "Skip records a task cannot process (e.g. a value `reduce sum` cannot read), counting them.")
    var skipBadRecords = false

    @Flag(name: .long, help: "Do not start backup attempts of the last running tasks of a phase.")
    var noBackupTasks = false

    @Option(name: .long, help: "Seconds of silence after which an embedded worker is declared dead (default \(Int(JobSettings.defaults.heartbeatTimeout.seconds))).")
    var heartbeatTimeout: SecondsArgument?

    @Option(name: .long, help: ArgumentHelp("Where jobs run: native (mrsh's own engine, the default) or spark (or MRSH_ENGINE).", valueName: "engine"))
    var engine: EngineChoice?

    @Option(name: .long, help: ArgumentHelp("The Spark master with --engine spark (or MRSH_SPARK_MASTER): local[*], local-cluster[2,1,1024], spark://HOST:PORT, ...", valueName: "url"))
    var master: String?

    @Flag(name: .long, help: "Run tasks on threads of this process instead of worker processes (debugging).")
    var inProcess = false

    @Flag(name: .long, help: "Trace tasks through the engine on standard error (or MRSH_VERBOSE=1).")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("Write the counters of every pipeline run (built-in and `counter` stages) to this file as JSON.", valueName: "file"))
    var counters: String?

    @Flag(name: .long, help: "Print no job summary on standard error.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp("Serve the status page and /metrics of the embedded engine on HOST:PORT (e.g. 127.0.0.1:8080; port 0: any); the login link is printed on standard error.", valueName: "host:port"))
    var statusListen: String?

    @Option(name: .long, help: ArgumentHelp("At the end, write the last job's report (its stages, tasks and charts) as one self-contained HTML file.", valueName: "file.html"))
    var report: String?

    @Option(name: .long, help: ArgumentHelp("How records are written: tsv (default), csv (RFC 4180), json (JSON Lines) or markdown; the shell also has table (its default).", valueName: "format"))
    var format: OutputFormat?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let reducers, reducers < 1 { throw ValidationError("--reducers must be at least 1") }
        if let splitSize, splitSize.bytes < 1 { throw ValidationError("--split-size must be positive") }
        if let memory, memory.bytes < 64 * 1024 { throw ValidationError("--memory must be at least 64K") }
        if let counters, counters.isEmpty { throw ValidationError("--counters needs a file name") }
        if let report, report.isEmpty { throw ValidationError("--report needs a file name") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
        if let heartbeatTimeout, heartbeatTimeout.duration < .milliseconds(200) {
            throw ValidationError("--heartbeat-timeout must be at least 0.2 seconds")
        }
    }

    /// The job settings these flags choose; every flag not given keeps `JobSettings.defaults`.
    var settings: JobSettings {
        var settings = JobSettings.defaults
        settings.reducers = reducers
        if let splitSize { settings.splitSize = Int64(splitSize.bytes) }
        if let memory { settings.memoryBudget = memory.bytes }
        if let broadcastLimit { settings.broadcastLimit = Int64(broadcastLimit.bytes) }
        if let maxAttempts { settings.maxAttempts = maxAttempts }
        settings.skipBadRecords = skipBadRecords
        settings.backupTasks = !noBackupTasks
        if let heartbeatTimeout {
            (settings.heartbeatInterval, settings.heartbeatTimeout) = JobSettings.heartbeats(timeout: heartbeatTimeout.duration)
        }
        return settings
    }

    var isVerbose: Bool { verbose || ProcessInfo.processInfo.environment["MRSH_VERBOSE"].map { $0 != "" && $0 != "0" } == true }
}

/// The engine `--engine` (or MRSH_ENGINE) chooses.
enum EngineChoice: String, ExpressibleByArgument, Sendable {
    case native, spark
}

/// A time on the command line, in seconds (`10`, `0.5`), as a `Duration`.
struct SecondsArgument: ExpressibleByArgument, Sendable {
    var duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        guard let seconds = Double(argument), seconds.isFinite, seconds >= 0, seconds < 1e9 else { return nil }
        duration = .seconds(seconds)
    }

    /// The seconds as `--help` shows a default: `10`, `0.5`.
    var defaultValueDescription: String {
        let seconds = duration.seconds
        return seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// A byte count on the command line: `123`, `64K`, `32M` or `1G` (powers of 1024).
struct ByteSizeArgument: ExpressibleByArgument, Sendable {
    var bytes: Int

    init?(argument: String) {
        guard let value = ByteSize.parse(argument), let bytes = Int(exactly: value) else { return nil }
        self.bytes = bytes
    }
}

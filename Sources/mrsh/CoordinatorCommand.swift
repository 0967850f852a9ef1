import ArgumentParser
import Foundation
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshPlan
import MrshShell
import MrshWeb
import MrshWire
import NIOPosix

/// `mrsh coordinator --listen HOST:PORT --token-file FILE`: a long-lived coordinator.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run a coordinator that workers join and clients submit jobs to.",
        discussion: "Logs to standard error. Jobs run one at a time; later submissions wait in order. With --state-dir the coordinator journals the running job: restarted on the same address with the same directory after a crash, it resumes it. Workers (retrying for their --retry seconds) register again with the map outputs they hold; clients wait up to 60 s for it and then receive their result."
    )

    @Option(name: .long, help: ArgumentHelp("Address to listen on (loopback by default).", valueName: "host:port"))
    var listen: String = "127.0.0.1:7070"

    @Option(name: .long, help: ArgumentHelp("File holding the cluster's token.", valueName: "file"))
    var tokenFile: String

    @Option(name: .long, help: ArgumentHelp("Directory for spooled standard input.", valueName: "dir"))
    var scratch: String?

    @Option(name: .long, help: ArgumentHelp("Journal jobs in DIR: restarted with the same DIR (and address), the coordinator resumes the job it was running.", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Serve the status page and /metrics on HOST:PORT (loopback, any free port by default; off: none). The login link is printed at start.", valueName: "host:port"))
    var statusListen: String = "127.0.0.1:0"

    /// How long a resumed job waits for its client (60 s; tests shorten it).
    @Option(name: .long, help: .hidden)
    var resumeClientWait = SecondsArgument(.seconds(60))

    @Option(name: .long, help: "Seconds between heartbeats.")
    var heartbeatInterval = SecondsArgument(JobSettings.defaults.heartbeatInterval)

    @Option(name: .long, help: "Seconds of silence after which a worker is lost.")
    var heartbeatTimeout = SecondsArgument(JobSettings.defaults.heartbeatTimeout)

    func run() async throws {
        guard let address = HostPort(listen) else {
            throw Failure("--listen expects HOST:PORT, got '\(listen)'", status: .scriptError, program: "mrsh coordinator")
        }
        let token: AuthToken
        do {
            token = try AuthToken(contentsOfFile: tokenFile)
        } catch {
            throw Failure(error.description, status: .scriptError, program: "mrsh coordinator")
        }
        let directory: String
        // With a state directory, the scratch directory (the coordinator's kept parts) must outlive this process.
        let scratch = self.scratch ?? stateDir.map { $0 + "/scratch" }
        if let stateDir {
            do {
                try FileIO.makeDirectories(stateDir)
            } catch {
                throw Failure("cannot use the state directory: \(error)", status: .runtimeError, program: "mrsh coordinator")
            }
        }
        do {
            if let scratch {
                try FileIO.makeDirectories(scratch)
                directory = scratch
            } else {
                directory = try FileIO.makeUniqueTemporaryDirectory(prefix: "mrsh-coordinator-\(getpid())")
            }
        } catch {
            throw Failure("cannot make the scratch directory: \(error)", status: .runtimeError, program: "mrsh coordinator")
        }
        // The directory this process made (not one the user named) goes when it ends, by SIGTERM, SIGINT or SIGHUP too.
        let madeScratch = scratch == nil ? directory : nil
        InterruptMonitor.endingProcessAfter { if let madeScratch { FileIO.removeTree(madeScratch) } }
        defer { if let madeScratch { FileIO.removeTree(madeScratch) } }
        let statusAddress = statusListen == "off" ? nil : try StatusLaunch.address(statusListen, program: "mrsh coordinator")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var options = CoordinatorOptions(
            listen: address, token: token, scratch: directory,
            heartbeat: HeartbeatSettings(interval: heartbeatInterval.duration, timeout: heartbeatTimeout.duration),
            stateDirectory: stateDir)
        options.clientWait = resumeClientWait.duration
        let server = try await CoordinatorServer.start(
            options: options,
            runner: try EnginePlanRunner(scratch: directory), group: group, logger: Logger(label: "mrsh.coordinator"))
        TerminalWriter.standardError.write("mrsh coordinator: listening on \(server.address)\n")
        var statusPage: StatusServer?
        if let statusAddress, let history = server.history {
            statusPage = try await StatusLaunch.start(
                statusAddress, token: token,
                sources: StatusServer.Sources(history: history, workers: { await StatusLaunch.workerRows(server) }),
                group: group, program: "mrsh coordinator")
        }
        try await server.waitUntilClosed()
        await statusPage?.stop()
    }
}

import ArgumentParser
import Foundation
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshWire
import NIOPosix

/// `mrsh coordinator --listen HOST:PORT --token-file FILE`: a long-lived coordinator.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run a coordinator that workers join and clients submit jobs to.",
        discussion: "Logs to standard error. Jobs run one at a time; later submissions wait in order."
    )

    @Option(name: .long, help: ArgumentHelp("Address to listen on (loopback by default).", valueName: "host:port"))
    var listen: String = "127.0.0.1:7070"

    @Option(name: .long, help: ArgumentHelp("File holding the cluster's token.", valueName: "file"))
    var tokenFile: String

    @Option(name: .long, help: ArgumentHelp("Directory for spooled standard input.", valueName: "dir"))
    var scratch: String?

    @Option(name: .long, help: "Seconds between heartbeats.")
    var heartbeatInterval: Double = 1

    @Option(name: .long, help: "Seconds of silence after which a worker is lost.")
    var heartbeatTimeout: Double = 10

    func run() async throws {
        guard let address = HostPort(listen) else {
            TerminalWriter.standardError.write("mrsh coordinator: error: --listen expects HOST:PORT, got '\(listen)'\n")
            throw ExitCode(2)
        }
        let token: AuthToken
        do {
            token = try AuthToken(contentsOfFile: tokenFile)
        } catch {
            TerminalWriter.standardError.write("mrsh coordinator: error: \(error)\n")
            throw ExitCode(2)
        }
        let directory: String
        do {
            if let scratch {
                try FileIO.makeDirectories(scratch)
                directory = scratch
            } else {
                directory = try FileIO.makeUniqueTemporaryDirectory(prefix: "mrsh-coordinator-\(getpid())")
            }
        } catch {
            TerminalWriter.standardError.write("mrsh coordinator: error: cannot make the scratch directory: \(error)\n")
            throw ExitCode(1)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await CoordinatorServer.start(
            options: CoordinatorOptions(
                listen: address, token: token, scratch: directory,
                heartbeat: HeartbeatSettings(interval: heartbeatInterval, timeout: heartbeatTimeout)),
            runner: try EnginePlanRunner(scratch: directory), group: group, logger: Logger(label: "mrsh.coordinator"))
        TerminalWriter.standardError.write("mrsh coordinator: listening on \(server.address)\n")
        try await server.waitUntilClosed()
    }
}

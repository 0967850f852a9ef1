import MrshCluster
import MrshControl
import MrshShell
import MrshWeb
import MrshWire
import NIOCore

/// Starting the status server for the CLI (`mrsh coordinator`, and the embedded engine with
/// `--status-listen`), and writing `--report`: the one place that turns their problems into messages.
enum StatusLaunch {
    /// Parses a `--status-listen` value; `off` (coordinator only) is nil.
    static func address(_ text: String, option: String = "--status-listen", program: String = "mrsh") throws(Failure) -> HostPort {
        guard let address = HostPort(text) else {
            throw Failure("\(option) expects HOST:PORT (for example 127.0.0.1:8080), got '\(text)'", status: .scriptError, program: program)
        }
        return address
    }

    /// Starts the status server and prints its login link on standard error. Each link works once: with
    /// `announceNext` the next one is printed there each time one is used (a script's run, a coordinator);
    /// the shell does not write under its prompt, and prints one on `:login`.
    static func start(
        _ address: HostPort, token: AuthToken, sources: StatusServer.Sources, group: any EventLoopGroup,
        program: String = "mrsh", announceNext: Bool = true
    ) async throws(Failure) -> StatusServer {
        do {
            var announce: (@Sendable (String) -> Void)?
            if announceNext {
                announce = { url in
                    let line = program + ": status page: that login link is used up; the next one: " + url + "\n"
                    TerminalWriter.standardError.write(line)
                }
            }
            let server = try await StatusServer.start(
                host: address.host, port: address.port, token: token, sources: sources, group: group,
                onLinkUsed: announce)
            TerminalWriter.standardError.write("\(program): status page at \(server.loginURL)\n")
            return server
        } catch {
            throw Failure("\(error)", status: .runtimeError, program: program)
        }
    }

    /// The workers page's rows of a coordinator.
    static func workerRows(_ coordinator: CoordinatorServer) async -> [WorkerRow] {
        await coordinator.workers().map {
            WorkerRow(
                name: $0.name, state: "connected", slots: $0.slots, completedTasks: $0.completedTasks,
                heartbeatAge: $0.heartbeatAge, address: $0.shuffleAddress, servedBytes: $0.servedBytes)
        }
    }

    /// The rows of an in-process engine (threads, no heartbeats).
    static func workerRows(_ engine: Engine) -> [WorkerRow] {
        engine.executors.map {
            WorkerRow(name: $0.name, state: "thread", slots: $0.slots, completedTasks: 0, heartbeatAge: nil, address: "")
        }
    }

    /// Writes the report of the newest run of `history` to `path`.
    static func writeReport(_ history: JobHistory?, to path: String) -> Failure? {
        guard let history else {
            return Failure(
                "no record of jobs is kept here: write reports with --report or the shell's :report",
                status: .runtimeError)
        }
        guard let run = history.last else { return Failure("no job has run yet: there is nothing to report", status: .runtimeError) }
        do {
            try Report.write(run, to: path)
            return nil
        } catch {
            return Failure("\(error)", status: .runtimeError)
        }
    }
}

extension EmbeddedClusterRunner {
    /// The embedded coordinator's record of runs (nil when the cluster did not start).
    func history() async -> JobHistory? {
        (try? await startup.value)?.coordinator.history
    }

    /// Serves the embedded coordinator's status page on `address`, with a login code from its token.
    func startStatus(_ address: HostPort, announceNext: Bool = true) async throws -> StatusServer {
        let cluster: EmbeddedCluster
        do {
            cluster = try await startup.value
        } catch {
            throw Failure("cannot start the worker processes: \(error)", status: .runtimeError)
        }
        let coordinator = cluster.coordinator
        guard let history = coordinator.history else { throw Failure("this coordinator keeps no history", status: .runtimeError) }
        return try await StatusLaunch.start(
            address, token: coordinator.options.token,
            sources: StatusServer.Sources(history: history, workers: { await StatusLaunch.workerRows(coordinator) }),
            group: group, announceNext: announceNext)
    }
}

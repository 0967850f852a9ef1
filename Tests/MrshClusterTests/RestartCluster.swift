import Foundation
import Glibc
import MrshCluster
import MrshDataPath
import Testing

/// A `mrsh coordinator --state-dir` process that tests SIGKILL and start again on the same address with the
/// same state directory, and `mrsh worker --join` processes that outlive it (retrying for 30 s). Heartbeats
/// are fast (0.2 s; a worker silent for 2 s is lost); the coordinator logs every task (`MRSH_VERBOSE`).
final class RestartCluster: Sendable {
    let directory: String
    let tokenFile: String
    let stateDirectory: String
    private let current = Locked<Child?>(nil)
    private let address = Locked("")
    private let workers = Locked<[Child]>([])
    private let incarnations = Locked<[Child]>([])

    var coordinatorAddress: String { address.value }
    /// The coordinator running now.
    var coordinator: Child? { current.value }
    /// Everything the running coordinator logged.
    var log: String { current.value?.stderr ?? "" }
    /// Everything every coordinator so far logged, in order.
    var logs: String { incarnations.value.map(\.stderr).joined(separator: "\n----- restart -----\n") }

    /// Starts a coordinator on a free port and `workers` workers (ids w0, w1, ...) with `environment`.
    static func start(workers count: Int, environment: [String: String] = [:]) async throws -> RestartCluster {
        let cluster = try RestartCluster()
        try await cluster.startCoordinator(listen: "127.0.0.1:0")
        for id in 0..<count {
            let worker = try Child(
                mrsh: [
                    "worker", "--join", cluster.coordinatorAddress, "--token-file", cluster.tokenFile, "--slots", "1",
                    "--id", "w\(id)", "--scratch", cluster.directory + "/worker-w\(id)", "--retry", "30",
                ], environment: environment)
            cluster.workers.append(worker)
        }
        try await cluster.waitForWorkers(count)
        return cluster
    }

    private init() throws {
        directory = try makeTempDirectory()
        tokenFile = directory + "/token"
        stateDirectory = directory + "/state"
        try writeTokenFile("restart-cluster-token\n", to: tokenFile)
    }

    /// Starts a coordinator (the first, or the next after a kill) with `environment` (test hooks).
    func startCoordinator(listen: String? = nil, environment: [String: String] = [:], arguments: [String] = []) async throws {
        let child = try Child(
            mrsh: [
                "coordinator", "--listen", listen ?? address.value, "--token-file", tokenFile, "--state-dir",
                stateDirectory, "--heartbeat-interval", "0.2", "--heartbeat-timeout", "2", "--status-listen", "off",
            ] + arguments, environment: environment.merging(["MRSH_VERBOSE": "1"]) { a, _ in a })
        current.set(child)
        incarnations.append(child)
        let pattern = "mrsh coordinator: listening on (\\S+)"
        guard await eventually(15, { firstCapture(pattern, in: child.stderr) != nil }),
            let listening = firstCapture(pattern, in: child.stderr)
        else {
            child.stop()
            throw EngineError.failed("the coordinator did not start: \(child.stderr)")
        }
        address.set(listening)
    }

    /// Sends `signal` (SIGKILL) to the running coordinator and waits for it to end.
    func killCoordinator(signal: Int32 = SIGKILL) {
        guard let child = current.value else { return }
        if child.process.isRunning { kill(child.pid, signal) }
        child.stop()
    }

    /// Waits until the running coordinator has `count` workers registered.
    func waitForWorkers(_ count: Int) async throws {
        let ids = (0..<count).map { "w\($0)" }
        guard await eventually(20, { ids.allSatisfy { self.log.contains("worker \($0) registered") } }) else {
            throw EngineError.failed("workers \(ids) did not register: \(log.suffix(3000))")
        }
    }

    /// Waits until the running coordinator logged `needle` `count` times after the first `offset` bytes of its
    /// log, or `until` holds, or the coordinator ended; returns whether the count was reached.
    func waitForLog(_ needle: String, count: Int, after offset: Int, timeout: Double = 60, until: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = String(decoding: log.utf8.dropFirst(offset), as: UTF8.self)
            if text.components(separatedBy: needle).count - 1 >= count { return true }
            if until() || current.value?.process.isRunning != true { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    /// `mrsh --cluster ADDRESS --token-file FILE ARGUMENTS` in the cluster's directory.
    func client(_ arguments: [String], stdin: Pipe? = nil) throws -> Child {
        try Child(
            mrsh: ["--cluster", address.value, "--token-file", tokenFile] + arguments, directory: directory, stdin: stdin)
    }

    func stop() {
        for child in incarnations.value { child.stop() }
        for worker in workers.value { worker.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `/bin/sh -c script` in `directory` and returns its standard output (the tests' oracles: awk, sort).
func shellOutput(_ script: String, in directory: String) async throws -> String {
    let child = try Child("/bin/sh", ["-c", script], directory: directory, environment: ["LC_ALL": "C"])
    let status = await child.wait(timeout: 60)
    guard status == 0 else { throw EngineError.failed("'\(script)' failed (\(status)): \(child.stderr)") }
    return child.stdout
}

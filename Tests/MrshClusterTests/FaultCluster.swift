import Foundation
import Glibc
import MrshCluster
import MrshDataPath
import Testing

/// A coordinator process with a verbose task log and worker processes that tests kill, stop, slow down or
/// add while jobs run. Heartbeats are fast (0.2 s) and a worker silent for 2 s is lost.
final class FaultCluster: Sendable {
    let directory: String
    let tokenFile: String
    let coordinator: Child
    private let address = Locked("")
    private let workers = Locked<[String: Child]>([:])
    private let nextID = Locked(0)
    private let environment: [String: String]

    var coordinatorAddress: String { address.value }
    /// Live worker processes by id.
    var liveWorkers: [String: Child] { workers.value.filter { $0.value.process.isRunning } }
    /// Everything the coordinator logged so far.
    var log: String { coordinator.stderr }

    /// Starts the coordinator and `count` workers (ids w0, w1, ...); `environment` goes to every worker.
    static func start(
        workers count: Int, environment: [String: String] = [:], coordinatorArguments: [String] = []
    ) async throws -> FaultCluster {
        let cluster = try FaultCluster(environment: environment, coordinatorArguments: coordinatorArguments)
        let coordinator = cluster.coordinator
        let pattern = "mrsh coordinator: listening on (\\S+)"
        guard await eventually(15, { firstCapture(pattern, in: coordinator.stderr) != nil }),
            let address = firstCapture(pattern, in: coordinator.stderr)
        else {
            coordinator.stop()
            throw EngineError.failed("the coordinator did not start: \(coordinator.stderr)")
        }
        cluster.address.set(address)
        for _ in 0..<count { try cluster.addWorker() }
        try await cluster.waitForRegistrations()
        return cluster
    }

    private init(environment: [String: String], coordinatorArguments: [String]) throws {
        directory = try makeTempDirectory()
        tokenFile = directory + "/token"
        self.environment = environment
        try writeTokenFile("fault-cluster-token\n", to: tokenFile)
        try FileManager.default.createDirectory(atPath: directory + "/coordinator", withIntermediateDirectories: true)
        coordinator = try Child(
            mrsh: [
                "coordinator", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--scratch", directory + "/coordinator",
                "--heartbeat-interval", "0.2", "--heartbeat-timeout", "2",
            ] + coordinatorArguments, environment: ["MRSH_VERBOSE": "1"])
    }

    /// Starts one more worker; returns its id.
    @discardableResult
    func addWorker(environment extra: [String: String] = [:], retry: Double = 5, scratch: String? = nil) throws -> String {
        let number = nextID.value
        nextID.set(number + 1)
        let id = "w\(number)"
        let child = try Child(
            mrsh: [
                "worker", "--join", address.value, "--token-file", tokenFile, "--slots", "1", "--id", id,
                "--scratch", scratch ?? (directory + "/worker-\(id)"), "--retry", "\(retry)",
            ], environment: environment.merging(extra) { _, new in new })
        var all = workers.value
        all[id] = child
        workers.set(all)
        return id
    }

    /// Waits until every started, running worker registered with the coordinator.
    func waitForRegistrations() async throws {
        let ids = Array(liveWorkers.keys)
        let coordinator = self.coordinator
        guard await eventually(15, { ids.allSatisfy { coordinator.stderr.contains("worker \($0) registered") } }) else {
            throw EngineError.failed("workers \(ids) did not register: \(coordinator.stderr.suffix(3000))")
        }
    }

    func worker(_ id: String) -> Child? { workers.value[id] }

    /// `mrsh --cluster ADDRESS --token-file FILE ARGUMENTS` in the cluster's directory.
    func client(_ arguments: [String]) throws -> Child {
        try Child(mrsh: ["--cluster", address.value, "--token-file", tokenFile] + arguments, directory: directory)
    }

    /// Polls the coordinator's log after `offset` (bytes) until `needle` occurs `count` times or `until`
    /// returns true; returns whether the count was reached.
    func waitForLog(_ needle: String, count: Int, after offset: Int, timeout: Double = 30, until: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = String(decoding: log.utf8.dropFirst(offset), as: UTF8.self)
            if occurrences(of: needle, in: text[...]) >= count { return true }
            if until() { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    private func occurrences(of needle: String, in text: Substring) -> Int {
        var count = 0
        var rest = text[...]
        while let range = rest.range(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }

    func stop() {
        coordinator.stop()
        for (_, w) in workers.value {
            if w.process.isRunning { kill(w.pid, SIGCONT) }
            w.stop()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}


import Foundation
import Glibc
import Logging
import MrshCluster
import NIOPosix
import Testing

/// Start-up and shutdown of the embedded cluster: the counts a one-shot query's latency depends on.
@Suite struct EmbeddedClusterTests {
    /// Exactly one process per worker, all registered when `start` returns; no descriptor of the parent
    /// reaches a worker (posix_spawn closes them: an inherited socket would keep another worker's
    /// connection open); `shutdown` reaps every worker (no zombie, no orphan).
    @Test func startsOneProcessPerWorkerWithoutInheritedDescriptorsAndReapsThem() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A descriptor without FD_CLOEXEC, as NIO's accepted sockets are.
        let probe = directory + "/inheritance-probe"
        let probeFD = open(probe, O_RDWR | O_CREAT, 0o600)
        #expect(probeFD >= 0)
        defer { close(probeFD) }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "test.embedded")
        logger.logLevel = .error
        let cluster = try await EmbeddedCluster.start(workers: 2, group: group, logger: logger, executable: mrshBinary)
        let pids = cluster.workerPIDs
        #expect(pids.count == 2)
        #expect(await cluster.coordinator.workers().count == 2)
        #expect(Set(childProcesses(of: getpid())).isSuperset(of: pids))
        for pid in pids {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            let targets = entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            #expect(!targets.isEmpty)
            #expect(!targets.contains(probe), "worker \(pid) inherited \(probe): \(targets)")
        }

        await cluster.shutdown()
        for pid in pids {
            // Reaped: not even a zombie is left.
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "worker \(pid) still exists")
        }
        try await group.shutdownGracefully()
    }
}

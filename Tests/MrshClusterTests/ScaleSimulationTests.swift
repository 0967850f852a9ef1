import MrshSim
import Testing

/// A small run of the scale harness (`bench/sim.sh` runs the big one): the real scheduler over simulated
/// workers in memory (with 10% of them killed mid-job) and over loopback connections.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ScaleSimulationTests {
    static func small(_ transport: SimConfig.Transport, workers: Int, maps: Int, reduces: Int, kill: Double = 0) -> SimConfig {
        var config = SimConfig()
        config.transport = transport
        config.workers = workers
        config.maps = maps
        config.reduces = reduces
        config.mapMilliseconds = 20
        config.reduceMilliseconds = 20
        config.killFraction = kill
        config.heartbeatMilliseconds = 200
        config.heartbeatIdleSeconds = 0.5
        return config
    }

    @Test func inMemoryWorkersRunEveryTaskAndSurviveATenthKilled() async throws {
        // Ideal 0.3 s. Times are not asserted: a debug build shares its cooperative threads with every other
        // test of this process (alone, each run takes under a second).
        let clean = try await Simulation.run(Self.small(.memory, workers: 40, maps: 1_200, reduces: 12))
        #expect(clean.decisions >= 1_212)
        #expect(clean.killed == 0)
        #expect(clean.feedBatches > 0 && clean.updatesPublished >= 1_200)
        #expect(clean.feedBatches < 1_200 * 12, "map outputs reach reducers in batches: \(clean)")
        let killed = try await Simulation.run(Self.small(.memory, workers: 40, maps: 1_200, reduces: 12, kill: 0.1))
        #expect(killed.killed == 4)
        #expect(killed.decisions > 1_212, "killed workers' tasks run again: \(killed)")
    }

    @Test func loopbackWorkersRunEveryTask() async throws {
        let result = try await Simulation.run(Self.small(.loopback, workers: 20, maps: 400, reduces: 4))
        #expect(result.decisions >= 404)
        #expect(result.heartbeatMicroseconds != nil)
    }
}

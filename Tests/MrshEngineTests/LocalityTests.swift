import Foundation
import Synchronization
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Reads every holder's blobs from one local store; whole blobs of a worker (not "local") come back as a
/// temporary copy, as a remote fetcher's download would, so the coordinator keeps its own copy.
struct CopyingFetcher: BlobFetcher {
    let inner: LocalBlobFetcher

    func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        let bytes = try inner.resolve(blob.id, partition: partition)
        guard partition == nil, blob.holder != .local else { return bytes }
        let copy = scratch + "-copy"
        try FileManager.default.copyItem(atPath: bytes.path, toPath: copy)
        return LocalBytes(path: copy, range: bytes.range, isTemporaryCopy: true)
    }
}

/// Where the map tasks of job 1 ran and which worker made their input.
final class PlacementLog: Sendable {
    struct Placement: Sendable, Equatable {
        var executor: String
        var origins: [String]
    }
    private let placements = Mutex<[Placement]>([])
    var all: [Placement] { placements.withLock { $0 } }
    func add(_ placement: Placement) { placements.withLock { $0.append(placement) } }
}

/// An executor whose blobs carry `label` as holder; records where the second job's map tasks ran.
struct PlacingExecutor: TaskExecutor {
    let inner: LocalExecutor
    let label: String
    let log: PlacementLog
    var name: String { inner.name }
    var slots: Int { inner.slots }

    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        if task.job.index == 1 {
            let origins = task.splits.compactMap { split -> String? in
                if case .blob(let location) = split { return location.origin?.holder.name }
                return nil
            }
            log.add(.init(executor: name, origins: origins))
        }
        var result = try await inner.runMap(task)
        result.output.relabel(holder: label)
        return result
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        var result = try await inner.runReduce(task, feed: feed)
        result.output.relabel(holder: label)
        return result
    }
}

@Suite struct LocalityTests {
    @Test func aTaskGoesToTheExecutorHoldingItsInputWhenItHasAFreeSlot() {
        var board = TaskBoard(taskCount: 3, executorSlots: [1, 1, 1])
        board.prefer(0, executor: 2)
        board.prefer(1, executor: 2)
        board.prefer(2, executor: 0)
        let first = board.schedule()
        // Task 0 gets executor 2, task 2 executor 0; task 1's preferred executor is busy: it does not wait.
        #expect(first.contains(TaskBoard.Assignment(task: 0, executor: 2, attempt: 0)))
        #expect(first.contains(TaskBoard.Assignment(task: 2, executor: 0, attempt: 0)))
        #expect(first.contains(TaskBoard.Assignment(task: 1, executor: 1, attempt: 0)))
    }

    @Test func aLostPreferredExecutorIsPassedOver() {
        var board = TaskBoard(taskCount: 1, executorSlots: [1, 1])
        board.prefer(0, executor: 1)
        board.executorLost(1)
        #expect(board.schedule() == [TaskBoard.Assignment(task: 0, executor: 0, attempt: 0)])
    }

    /// Job 1 reads job 0's parts: each of its map tasks runs on the executor holding its part.
    @Test(.timeLimit(.minutes(1))) func mapTasksOfAChainedJobRunWhereTheirInputWasMade() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Many distinct words, so that every part of job 0 is bigger than the split size (one task each).
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let words = (0..<600).map { String([letters[$0 % 26], letters[($0 / 26) % 26], letters[$0 % 7]]) }
        let text = stride(from: 0, to: words.count, by: 10).map { words[$0..<min($0 + 10, words.count)].joined(separator: " ") }
            .joined(separator: "\n") + "\n"
        let input = dir.write("in.txt", text)
        let store = try BlobStore(root: dir.file("scratch"))
        let fetcher = CopyingFetcher(inner: LocalBlobFetcher(store: store))
        let log = PlacementLog()
        // Job 0's part i is made on executor i, and job 1's task i would run there anyway; so that
        // preferring the holder is visible, each executor labels its blobs as held by the next one (all
        // share one store, so any executor can read any blob).
        let executors: [any TaskExecutor] = (0..<3).map {
            PlacingExecutor(
                inner: LocalExecutor(name: "E\($0)", store: store, fetcher: fetcher), label: "E\(($0 + 1) % 3)", log: log)
        }
        let options = EngineOptions(
            workers: 3, settings: JobSettings(reducers: 3, splitSize: 600, backupTasks: false),
            scratchDirectory: dir.file("scratch"))
        let engine = try Engine(options: options, executors: executors, fetcher: fetcher)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([input]), mapOps: [.words], shuffle: .aggregate(.count), reducers: 3,
                    output: .standardOutput),
            JobSpec(id: 1, input: .job(0), shuffle: .sort(.byKey, limit: nil), reducers: 1, output: .standardOutput),
        ])
        let sink = CollectingSink()
        _ = try await engine.run(plan, output: sink)
        #expect(sink.lines == words.sorted().map { "\($0)\t1" })
        let placements = log.all
        #expect(placements.count == 3, "\(placements)")
        for placement in placements {
            #expect(placement.origins == [placement.executor], "\(placements)")
        }
    }
}

import Synchronization
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// A one-shot event tests can await with a bound (a regression then fails instead of hanging).
final class TestSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var next: UInt64 = 0
    }
    private let state = Mutex(State())

    var fired: Bool { state.withLock { $0.fired } }

    func fire() {
        let waiters = state.withLock { s in
            s.fired = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// True when fired within `seconds`.
    func wait(seconds: Double) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.waitForever()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || fired
        }
    }

    private func waitForever() async {
        let id = state.withLock { s in
            defer { s.next += 1 }
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s in
                    if s.fired || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// A fetcher that fires `reduceFetched` after it served a reduce attempt's partition of a map output.
struct SignallingFetcher: BlobFetcher {
    let inner: any BlobFetcher
    let reduceFetched: TestSignal

    func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        let bytes = try await inner.fetch(blob, partition: partition, scratch: scratch)
        if partition != nil { reduceFetched.fire() }
        return bytes
    }
}

/// Holds map task `heldTask` back until `release` fired (or fails it after a bound).
struct HoldingExecutor: TaskExecutor {
    let inner: LocalExecutor
    let heldTask: Int
    let release: TestSignal
    var name: String { inner.name }
    var slots: Int { inner.slots }

    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        if task.task == heldTask, !(await release.wait(seconds: 20)) {
            throw EngineError.failed("no reduce attempt fetched a map output while map task \(heldTask) was held")
        }
        return try await inner.runMap(task)
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        try await inner.runReduce(task, feed: feed)
    }
}

/// The unreachable holder of a map output, as a remote fetcher would report it.
struct UnreachableBlobError: Error, AttemptFailure, CustomStringConvertible {
    let blob: BlobLocation
    var executorLost: Bool { false }
    var unavailableBlob: BlobLocation? { blob }
    var description: String { "cannot reach \(blob.holder)" }
}

/// The executor went away.
struct GoneError: Error, AttemptFailure {
    var executorLost: Bool { true }
    var unavailableBlob: BlobLocation? { nil }
}

/// What the executors of the re-execution test saw.
final class RelocationLog: Sendable {
    private struct State {
        var lost: Set<String> = []
        var reduceAttempts = 0
        /// Locations each map task had in the reduce attempts' feeds, by attempt.
        var seen: [Int: [Int: Set<BlobLocation>]] = [:]
    }
    private let state = Mutex(State())
    /// Fired when a running reduce attempt got a second location for a map task.
    let relocated = TestSignal()

    func markLost(_ name: String) { _ = state.withLock { $0.lost.insert(name) } }
    func isLost(_ name: String) -> Bool { state.withLock { $0.lost.contains(name) } }
    var reduceAttempts: Int { state.withLock { $0.reduceAttempts } }
    func reduceStarted() { state.withLock { $0.reduceAttempts += 1 } }

    /// Records updates of reduce attempt `attempt`; true when a task now has two locations.
    func saw(_ updates: [MapOutputUpdate], attempt: Int) -> Bool {
        state.withLock { s in
            var moved = false
            for update in updates {
                s.seen[attempt, default: [:]][update.task, default: []].insert(update.location)
                if (s.seen[attempt]?[update.task]?.count ?? 0) > 1 { moved = true }
            }
            return moved
        }
    }
}

/// An executor whose blobs carry its own name as holder, that can be declared lost, and that watches
/// the map-output feeds of its reduce attempts.
struct HolderExecutor: TaskExecutor, ExecutorLiveness {
    let inner: LocalExecutor
    let log: RelocationLog
    var name: String { inner.name }
    var slots: Int { inner.slots }
    var isLost: Bool { log.isLost(name) }

    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        if isLost { throw GoneError() }
        var result = try await inner.runMap(task)
        result.output.relabel(holder: name)
        return result
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        if isLost { throw GoneError() }
        log.reduceStarted()
        let initial = zip(task.mapOutputTasks, task.mapOutputs).map { MapOutputUpdate(task: $0, location: $1) }
        _ = log.saw(initial, attempt: task.attempt)
        let watched = MapOutputFeed()
        let log = self.log
        let forwarder = Task {
            while let batch = try? await feed.next() {
                let moved = log.saw(batch, attempt: task.attempt)
                watched.publish(batch)
                if moved { log.relocated.fire() }
            }
        }
        defer { forwarder.cancel() }
        var result = try await inner.runReduce(task, feed: watched)
        result.output.relabel(holder: name)
        return result
    }
}

/// Reads every holder's blobs from the one local store; a reduce fetch from `doomed` declares it lost,
/// waits until the reduce attempt got the task's new location, and then fails as a dead holder would.
struct DoomedHolderFetcher: BlobFetcher {
    let inner: LocalBlobFetcher
    let doomed: String
    let log: RelocationLog

    func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        if blob.holder.name == doomed, partition != nil {
            log.markLost(doomed)
            _ = await log.relocated.wait(seconds: 20)
            throw UnreachableBlobError(blob: blob)
        }
        return try inner.resolve(blob.id, partition: partition)
    }
}

@Suite struct ShuffleOverlapTests {
    static let vocabulary = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay", "kiwi"]

    /// `lines` lines of words of `vocabulary` and the word count they make.
    static func corpus(lines: Int) -> (text: String, counts: [String]) {
        var text = ""
        var counts: [String: Int] = [:]
        for line in 0..<lines {
            let words = (0..<5).map { vocabulary[(line * 7 + $0 * $0 * 3) % vocabulary.count] }
            for word in words { counts[word, default: 0] += 1 }
            text += words.joined(separator: " ") + "\n"
        }
        return (text, counts.map { "\($0.key)\t\($0.value)" }.sorted())
    }

    static func wordCount(_ input: String, reducers: Int) -> JobPlan {
        JobPlan(jobs: [
            JobSpec(id: 0, input: .files([input]), mapOps: [.words], shuffle: .aggregate(.count), reducers: reducers,
                    output: .standardOutput)
        ])
    }

    /// The last map task runs only after a reduce attempt fetched another map output: the job finishes
    /// only when reducers fetch while the map phase runs.
    @Test(.timeLimit(.minutes(1))) func reducersFetchWhileMapsRun() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (text, expected) = Self.corpus(lines: 400)
        let input = dir.write("in.txt", text)
        let splitSize: Int64 = Int64(text.utf8.count / 6)
        let taskCount = InputPlanner.tasks(try InputPlanner.sizedFiles([input]), splitSize: splitSize).count
        #expect(taskCount >= 5)
        let store = try BlobStore(root: dir.file("scratch"))
        let fetched = TestSignal()
        let fetcher = SignallingFetcher(inner: LocalBlobFetcher(store: store), reduceFetched: fetched)
        let executors: [any TaskExecutor] = (0..<2).map {
            HoldingExecutor(
                inner: LocalExecutor(name: "local-\($0)", store: store, fetcher: fetcher), heldTask: taskCount - 1,
                release: fetched)
        }
        let options = EngineOptions(
            workers: 2, settings: JobSettings(reducers: 2, splitSize: splitSize, maxAttempts: 1, backupTasks: false),
            scratchDirectory: dir.file("scratch"))
        let engine = try Engine(options: options, executors: executors, fetcher: fetcher)
        let sink = CollectingSink()
        _ = try await engine.run(Self.wordCount(input, reducers: 2), output: sink)
        #expect(sink.lines.sorted() == expected)
        #expect(fetched.fired)
    }

    /// A map output whose holder dies before a running reducer read it is recomputed elsewhere; its new
    /// location reaches that same reduce attempt, which reads it there and finishes (no second attempt).
    @Test(.timeLimit(.minutes(1))) func reExecutedMapOutputReachesTheRunningReducer() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (text, expected) = Self.corpus(lines: 300)
        let input = dir.write("in.txt", text)
        let splitSize: Int64 = Int64(text.utf8.count / 4)
        let store = try BlobStore(root: dir.file("scratch"))
        let log = RelocationLog()
        let fetcher = DoomedHolderFetcher(inner: LocalBlobFetcher(store: store), doomed: "E2", log: log)
        // Executor 0 gets the reduce (ties go to the first executor); E2, the last, holds a map output.
        let executors: [any TaskExecutor] = (0..<3).map {
            HolderExecutor(inner: LocalExecutor(name: "E\($0)", store: store, fetcher: fetcher), log: log)
        }
        let options = EngineOptions(
            workers: 3, settings: JobSettings(reducers: 1, splitSize: splitSize, backupTasks: false),
            scratchDirectory: dir.file("scratch"))
        let engine = try Engine(options: options, executors: executors, fetcher: fetcher)
        let sink = CollectingSink()
        _ = try await engine.run(Self.wordCount(input, reducers: 1), output: sink)
        #expect(sink.lines.sorted() == expected)
        #expect(log.relocated.fired)
        #expect(log.reduceAttempts == 1)
    }
}

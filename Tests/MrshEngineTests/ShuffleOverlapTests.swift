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
        /// The executor of the first reduce attempt, and the holder doomed to be lost (never that one).
        var reducer: String?
        var doomed: String?
        /// Locations each map task had in the reduce attempts' feeds, by attempt.
        var seen: [Int: [Int: Set<BlobLocation>]] = [:]
        /// Fired when a reduce attempt got a new location for the task that was at the key.
        var movedAway: [BlobLocation: TestSignal] = [:]
    }
    private let state = Mutex(State())
    /// Fired when a running reduce attempt got a second location for a map task.
    let relocated = TestSignal()

    func markLost(_ name: String) { _ = state.withLock { $0.lost.insert(name) } }
    func isLost(_ name: String) -> Bool { state.withLock { $0.lost.contains(name) } }
    var reduceAttempts: Int { state.withLock { $0.reduceAttempts } }
    func reduceStarted(on executor: String) {
        state.withLock {
            $0.reduceAttempts += 1
            if $0.reducer == nil { $0.reducer = executor }
        }
    }

    /// Whether a fetch from `holder` should find it lost: the first holder fetched from that does not run
    /// the reduce attempt is doomed (which executor gets the reduce depends on the scheduler's timing).
    func isDoomed(_ holder: String) -> Bool {
        state.withLock { s in
            if s.doomed == nil, let reducer = s.reducer, holder != reducer { s.doomed = holder }
            return s.doomed == holder
        }
    }

    /// Fired once a reduce attempt has been told a new location for the map output now at `location`.
    func movedAway(from location: BlobLocation) -> TestSignal {
        state.withLock { s in
            if let signal = s.movedAway[location] { return signal }
            let signal = TestSignal()
            s.movedAway[location] = signal
            return signal
        }
    }

    /// Records updates of reduce attempt `attempt`; true when a task now has two locations.
    func saw(_ updates: [MapOutputUpdate], attempt: Int) -> Bool {
        let (moved, signals) = state.withLock { s in
            var moved = false
            var signals: [TestSignal] = []
            for update in updates {
                let before = s.seen[attempt]?[update.task] ?? []
                s.seen[attempt, default: [:]][update.task, default: []].insert(update.location)
                guard !before.isEmpty, !before.contains(update.location) else { continue }
                moved = true
                for old in before {
                    if let signal = s.movedAway[old] {
                        signals.append(signal)
                    } else {
                        let signal = TestSignal()
                        s.movedAway[old] = signal
                        signals.append(signal)
                    }
                }
            }
            return (moved, signals)
        }
        for signal in signals { signal.fire() }
        return moved
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
        log.reduceStarted(on: name)
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

/// Reads every holder's blobs from the one local store; a reduce fetch from the doomed holder (see
/// `RelocationLog.isDoomed`) declares it lost, waits until the reduce attempt got that output's new
/// location (the holder may hold several), and then fails as a dead holder would.
struct DoomedHolderFetcher: BlobFetcher {
    let inner: LocalBlobFetcher
    let log: RelocationLog

    func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        if partition != nil, log.isDoomed(blob.holder.name) {
            log.markLost(blob.holder.name)
            _ = await log.movedAway(from: blob).wait(seconds: 20)
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
        // The first holder a reducer fetches from, other than the reducer's own executor, is lost.
        let fetcher = DoomedHolderFetcher(inner: LocalBlobFetcher(store: store), log: log)
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

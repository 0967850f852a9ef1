import Synchronization
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// An executor that fails chosen attempts and otherwise runs tasks locally.
struct FlakyExecutor: TaskExecutor {
    let inner: LocalExecutor
    /// Map attempts (task, attempt) and reduce partitions that fail.
    let failMap: @Sendable (Int, Int) -> Bool
    let failReduce: @Sendable (Int, Int) -> Bool
    var name: String { inner.name }
    var slots: Int { inner.slots }

    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        if failMap(task.task, task.attempt) { throw EngineError.failed("injected map failure") }
        return try await inner.runMap(task)
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        if failReduce(task.partition, task.attempt) { throw EngineError.failed("injected reduce failure") }
        return try await inner.runReduce(task, feed: feed)
    }
}

/// An executor whose map tasks wait until cancelled, reporting when one started.
struct StuckExecutor: TaskExecutor {
    let name = "stuck"
    let slots = 2
    let started: AsyncStream<Void>.Continuation

    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        started.yield()
        while true {
            try Task.checkCancellation()
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        throw EngineError.failed("unreachable")
    }
}

@Suite struct OutputCommitTests {
    static func wordCount(_ input: String, to output: String, overwrite: Bool = false) -> JobPlan {
        JobPlan(jobs: [
            JobSpec(id: 0, input: .files([input]), mapOps: [.words], shuffle: .aggregate(.count), reducers: 3,
                    output: .directory(path: output, overwrite: overwrite))
        ])
    }

    static func engine(_ dir: TemporaryDirectory, executors: ((BlobStore, any BlobFetcher) -> [any TaskExecutor])? = nil) throws -> Engine {
        let options = EngineOptions(workers: 2, settings: JobSettings(reducers: 3), scratchDirectory: dir.file("scratch"))
        guard let executors else { return try Engine(options: options) }
        let store = try BlobStore(root: dir.file("scratch"))
        let fetcher = LocalBlobFetcher(store: store)
        return try Engine(options: options, executors: executors(store, fetcher), fetcher: fetcher)
    }

    @Test func writesPartsAndSuccess() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a b c a\nb a\n")
        let engine = try OutputCommitTests.engine(dir)
        let summary = try await engine.run(OutputCommitTests.wordCount(dir.file("in.txt"), to: dir.file("out/deep")), output: CollectingSink())
        #expect(dir.list("out/deep") == ["_SUCCESS", "part-00000", "part-00001", "part-00002"])
        #expect(dir.read("out/deep/_SUCCESS").isEmpty)
        let all = (0..<3).flatMap { dir.read("out/deep/part-0000\($0)").split(separator: "\n").map(String.init) }
        #expect(all.sorted() == ["a\t3", "b\t2", "c\t1"])
        #expect(summary.partsWritten == 3)
    }

    @Test func refusesANonEmptyDirectoryAndOverwritesOnRequest() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "x y\n")
        dir.write("out/old.txt", "old")
        let engine = try OutputCommitTests.engine(dir)
        let out = dir.file("out")
        await #expect {
            _ = try await engine.run(OutputCommitTests.wordCount(dir.file("in.txt"), to: out), output: CollectingSink())
        } throws: { error in
            let engineError = error as? EngineError
            return engineError == .outputExists(path: out) && engineError?.isValidation == true
                && engineError?.message == "output directory '\(out)' exists and is not empty (use `write \(out) overwrite` to replace it)"
        }
        #expect(dir.list("out") == ["old.txt"])
        _ = try await engine.run(OutputCommitTests.wordCount(dir.file("in.txt"), to: out, overwrite: true), output: CollectingSink())
        #expect(dir.list("out") == ["_SUCCESS", "part-00000", "part-00001", "part-00002"])
        #expect(dir.list().filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func emptyExistingDirectoryIsUsed() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "x\n")
        _ = try FileIO.makeDirectories(dir.file("out"))
        let engine = try OutputCommitTests.engine(dir)
        _ = try await engine.run(OutputCommitTests.wordCount(dir.file("in.txt"), to: dir.file("out")), output: CollectingSink())
        #expect(dir.list("out").contains("_SUCCESS"))
    }

    @Test func outputUnderAFileIsRefused() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "x\n")
        dir.write("file", "x\n")
        let engine = try OutputCommitTests.engine(dir)
        await #expect {
            _ = try await engine.run(OutputCommitTests.wordCount(dir.file("in.txt"), to: dir.file("file/out")), output: CollectingSink())
        } throws: { error in
            (error as? EngineError)?.isValidation == true
        }
    }

    @Test func failedAttemptIsRetriedAndCountersCountTheWinnerOnly() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a b\nb\n")
        let engine = try OutputCommitTests.engine(dir) { store, fetcher in
            (0..<2).map { i in
                FlakyExecutor(
                    inner: LocalExecutor(name: "flaky-\(i)", store: store, fetcher: fetcher),
                    failMap: { _, attempt in attempt == 0 }, failReduce: { _, attempt in attempt == 0 })
            }
        }
        let sink = CollectingSink()
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), mapOps: [.words], shuffle: .aggregate(.count),
                    reducers: 2, output: .standardOutput)
        ])
        let summary = try await engine.run(plan, output: sink)
        #expect(sink.lines == ["a\t1", "b\t2"])
        #expect(summary.jobs[0].retries == 3)
        #expect(summary.jobs[0].map.recordsIn == 2)
    }

    @Test func failedJobLeavesNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a b c d e f g\n")
        let engine = try OutputCommitTests.engine(dir) { store, fetcher in
            [FlakyExecutor(
                inner: LocalExecutor(name: "flaky", slots: 2, store: store, fetcher: fetcher),
                failMap: { _, _ in false }, failReduce: { partition, _ in partition == 2 })]
        }
        await #expect {
            _ = try await engine.run(OutputCommitTests.wordCount(dir.file("in.txt"), to: dir.file("new/out")), output: CollectingSink())
        } throws: { error in
            (error as? EngineError)?.message == "task reduce-2 of job 0 failed 3 times: injected reduce failure"
        }
        #expect(!dir.exists("new"))
        // An overwrite that fails keeps the old directory as it was.
        dir.write("old/keep.txt", "keep")
        await #expect(throws: EngineError.self) {
            _ = try await engine.run(
                OutputCommitTests.wordCount(dir.file("in.txt"), to: dir.file("old"), overwrite: true), output: CollectingSink())
        }
        #expect(dir.list("old") == ["keep.txt"])
        #expect(dir.list().sorted() == ["in.txt", "old", "scratch"])
        #expect(dir.list("scratch").filter { $0 != "tmp" }.isEmpty)
    }

    @Test func mapOnlyJobIntoADirectory() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "one\ntwo\n")
        let engine = try OutputCommitTests.engine(dir)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), output: .directory(path: dir.file("out"), overwrite: false))
        ])
        _ = try await engine.run(plan, output: CollectingSink())
        #expect(dir.list("out") == ["_SUCCESS", "part-00000"])
        #expect(dir.read("out/part-00000") == "one\ntwo\n")
    }

    @Test func cancellationStopsTheJobAndRemovesItsFiles() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a\n")
        let (started, continuation) = AsyncStream<Void>.makeStream()
        let engine = try OutputCommitTests.engine(dir) { _, _ in [StuckExecutor(started: continuation)] }
        let plan = OutputCommitTests.wordCount(dir.file("in.txt"), to: dir.file("out"))
        let run = Task { try await engine.run(plan, output: CollectingSink()) }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        #expect(dir.exists("out/_temporary"))
        run.cancel()
        await #expect {
            _ = try await run.value
        } throws: { error in
            (error as? EngineError) == .cancelled
        }
        #expect(!dir.exists("out"))
    }
}

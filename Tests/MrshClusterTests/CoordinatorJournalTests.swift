import Foundation
import Glibc
@testable import MrshCluster
import MrshControl
import MrshPlan
import MrshWire
import Testing

/// The coordinator's journal file: records framed by length and CRC32C, fsynced; replay stops at the last good
/// record (a torn write, a flipped byte, a wild length) and cuts the rest off; and what a replayed journal says
/// of its run.
@Suite struct CoordinatorJournalTests {
    static let spec = JobSpec(id: 0, input: .files(["data/*.txt"]), output: .standardOutput)
    static let submission = JobSubmission(plan: JobPlan(jobs: [spec]), hasStandardInput: false, workingDirectory: "/work")

    static func mapDone(_ task: Int, holder: String = "w0") -> JournalRecord {
        let id = BlobID.mapOutput(JobID(run: "r1", index: 0), task: task, attempt: 0)
        let result = MapTaskResult(
            task: task, attempt: 0, output: .blob(BlobLocation(holder: .worker(holder), address: "127.0.0.1:9", id: id)),
            partitionSizes: [], counters: Counters())
        return .event(run: "r1", .mapDone(job: 0, result: result))
    }

    static func records() -> [JournalRecord] {
        [
            .admitted(AdmittedRun(run: "r1", submission: submission, standardInput: nil)),
            .event(
                run: "r1",
                .planned(
                    PlannedJob(
                        job: 0, spec: spec, tasks: [[.file(path: "/work/data/a.txt", offset: 0, length: 10)]],
                        sourceStarts: [0], partitioner: .hash(partitions: 2), reducers: 2, sideSplits: [], directory: nil))),
            mapDone(0), mapDone(1), mapDone(2),
        ]
    }

    /// Writes `records` to a new journal in a new directory; returns the directory.
    func written(_ records: [JournalRecord]) throws -> String {
        let directory = try makeTempDirectory()
        let (journal, replay) = try CoordinatorJournal.open(directory: directory)
        #expect(replay.records.isEmpty && replay.problem == nil)
        for record in records { try journal.append(record) }
        return directory
    }

    func bytes(_ directory: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/journal")))
    }

    func write(_ bytes: [UInt8], to directory: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/journal"))
    }

    @Test func recordsComeBackInOrder() throws {
        let directory = try written(Self.records())
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, replay) = try CoordinatorJournal.open(directory: directory)
        #expect(replay.records == Self.records())
        #expect(replay.ignoredBytes == 0 && replay.problem == nil)
        #expect(replay.goodBytes == (try bytes(directory)).count)
    }

    @Test func aTornLastRecordIsIgnoredCutOffAndFollowedByNewRecords() throws {
        let directory = try written(Self.records())
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let whole = try bytes(directory)
        let last = try CoordinatorJournal.frame(Self.records().last!)  // safe: records() is not empty
        // Every cut inside the last record (its header too) leaves the records before it.
        for cut in [1, 4, 7, 8, 9, last.count / 2, last.count - 1] {
            try write(Array(whole[0..<(whole.count - last.count + cut)]), to: directory)
            let (_, replay) = try CoordinatorJournal.open(directory: directory)
            #expect(replay.records == Array(Self.records().dropLast()), "cut \(cut)")
            #expect(replay.ignoredBytes == cut, "cut \(cut)")
            #expect(replay.problem?.contains("cut short") == true, "\(replay.problem ?? "")")
            // The tail was cut off: the file ends at the last good record.
            #expect(try bytes(directory).count == whole.count - last.count)
        }
        // New records follow the good ones (each journal closes at the end of its scope).
        do {
            let (journal, _) = try CoordinatorJournal.open(directory: directory)
            try journal.append(Self.mapDone(7))
        }
        let (_, replay) = try CoordinatorJournal.open(directory: directory)
        #expect(replay.records == Array(Self.records().dropLast()) + [Self.mapDone(7)])
        #expect(replay.problem == nil)
    }

    @Test func aFlippedByteEndsTheJournalAtTheRecordBeforeIt() throws {
        let directory = try written(Self.records())
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let whole = try bytes(directory)
        let frames = try Self.records().map { try CoordinatorJournal.frame($0) }
        // A byte of the third record's payload, then of its checksum.
        let third = frames[0].count + frames[1].count
        for offset in [third + 8 + 5, third + 5] {
            var damaged = whole
            damaged[offset] ^= 0x20
            try write(damaged, to: directory)
            let (_, replay) = try CoordinatorJournal.open(directory: directory)
            #expect(replay.records == Array(Self.records().prefix(2)))
            #expect(replay.problem?.contains("checksum") == true, "\(replay.problem ?? "")")
            #expect(replay.ignoredBytes == whole.count - third)
        }
    }

    @Test func aWildLengthOrAGoodChecksumOverBadJSONEndsTheJournal() throws {
        let good = try CoordinatorJournal.frame(Self.records()[0])
        var wild = good
        wild[0] = 0x7F
        let replay = CoordinatorJournal.decode(good + wild)
        #expect(replay.records == [Self.records()[0]])
        #expect(replay.problem?.contains("record length") == true, "\(replay.problem ?? "")")

        let payload = Array(#"{"nonsense":{}}"#.utf8)
        let checksum = CRC32C.checksum(payload)
        var framed: [UInt8] = [0, 0, 0, UInt8(payload.count)]
        framed += [UInt8(checksum >> 24), UInt8((checksum >> 16) & 0xFF), UInt8((checksum >> 8) & 0xFF), UInt8(checksum & 0xFF)]
        let decoded = CoordinatorJournal.decode(good + framed + payload + good)
        #expect(decoded.records == [Self.records()[0]])
        #expect(decoded.problem?.contains("does not decode") == true, "\(decoded.problem ?? "")")
    }

    @Test func aSecondCoordinatorCannotUseTheSameStateDirectory() throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (journal, _) = try CoordinatorJournal.open(directory: directory)
        #expect(throws: (any Error).self) { try CoordinatorJournal.open(directory: directory) }
        withExtendedLifetime(journal) {}
    }

    @Test func resetEmptiesTheJournal() throws {
        let directory = try written(Self.records())
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let (journal, _) = try CoordinatorJournal.open(directory: directory)
            try journal.reset()
            #expect(try bytes(directory).isEmpty)
            try journal.append(Self.mapDone(3))
        }
        let (_, replay) = try CoordinatorJournal.open(directory: directory)
        #expect(replay.records == [Self.mapDone(3)])
    }

    @Test func theReplayedStateIsTheLastAdmittedRunWithItsOwnEvents() throws {
        var records = Self.records()
        records.append(.resumed(run: "r1"))
        records.append(.event(run: "other", .commitStarted(job: 0, parts: ["x"], report: Self.report)))
        records.append(Self.mapDone(1, holder: "w1"))  // task 1 again, elsewhere: the later one counts
        records.append(.resumed(run: "r1"))
        let state = try #require(JournalState(records))
        #expect(state.admitted.run == "r1")
        #expect(state.resumes == 2)
        #expect(state.plans[0]?.reducers == 2)
        #expect(state.maps[0]?.count == 3)
        #expect(state.maps[0]?[1]?.output.blob?.holder == .worker("w1"))
        #expect(state.commits.isEmpty)
        #expect(state.holders == ["w0", "w1"])
        // Nothing admitted: nothing to resume.
        #expect(JournalState([Self.mapDone(0)]) == nil)
        #expect(JournalState([]) == nil)
    }

    static let report = JobReport(job: 0, mapTasks: 1, reduceTasks: 2, retries: 0, map: Counters(), reduce: Counters(), elapsed: 0)

    @Test func aResumedRunKeepsOnlyOutputsThatSurvived() throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var records = Self.records()
        let part = directory + "/out/_temporary/part-00000-a0-r1"
        try FileManager.default.createDirectory(atPath: directory + "/out/_temporary", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: part, contents: Data("a\t1\n".utf8))
        records.append(
            .event(run: "r1", .reduceDone(job: 0, result: ReduceTaskResult(partition: 0, attempt: 0, output: .file(path: part), counters: Counters()))))
        records.append(
            .event(
                run: "r1",
                .reduceDone(job: 0, result: ReduceTaskResult(partition: 1, attempt: 0, output: .file(path: part + "-gone"), counters: Counters()))))
        let state = try #require(JournalState(records))
        let (journal, _) = try CoordinatorJournal.open(directory: directory + "/state")
        let held = BlobID.mapOutput(JobID(run: "r1", index: 0), task: 1, attempt: 0)
        let run = JournaledRun(
            resuming: state, journal: journal, workers: ["w0": ReturnedWorker(shuffleAddress: "127.0.0.1:4242", holds: [held])],
            store: nil)
        #expect(run.isResuming && run.firstAttempt == 1000)
        // Only task 1's output is still on w0, now at its new shuffle address.
        let maps = run.survivingMaps(0)
        #expect(Array(maps.keys) == [1])
        #expect(maps[1]?.output.blob?.address == "127.0.0.1:4242")
        #expect(Array(run.survivingReduces(0).keys) == [0])
        #expect(run.plannedJob(0)?.partitioner == .hash(partitions: 2))
        #expect(run.finishedJob(0) == nil && run.commitInProgress(0) == nil)
    }
}

import Foundation
import MrshDataPath
import MrshControl
import MrshPlan
import Testing
@testable import MrshCluster

/// A worker given a copy of a blob it made reads its own original while it still has it.
@Suite struct LocalOriginalTests {
    @Test func aSplitWhoseOriginalThisWorkerHoldsIsReadInPlaceElseTheCopy() async throws {
        let scratch = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let handler = try EngineTaskHandler(scratch: scratch)
        let job = JobID(run: "r1", index: 0)
        func part(_ partition: Int) -> BlobID { .reduceOutput(job, partition: partition, attempt: 0) }
        try FileManager.default.createDirectory(atPath: scratch + "/r1/j0", withIntermediateDirectories: true)
        try Data("a\t1\n".utf8).write(to: URL(fileURLWithPath: scratch + "/" + part(0).path))
        let me = BlobRewriter(holder: .worker("w1"), address: "127.0.0.1:7001")
        func copy(_ partition: Int, madeBy holder: String) -> InputSplit {
            .blob(BlobLocation(
                holder: .coordinator, address: "127.0.0.1:7000", id: .keptReduceOutput(job, partition: partition, attempt: 0),
                origin: BlobOrigin(holder: .worker(holder), address: "127.0.0.1:7001", id: part(partition))))
        }
        let splits = [copy(0, madeBy: "w1"), copy(1, madeBy: "w1"), copy(2, madeBy: "w2")]
        let (result, inPlace) = await WorkerNode.readingOwnOriginals(splits, handler: handler, identity: me)
        #expect(inPlace == 1)
        #expect(result[0] == .blob(BlobLocation(holder: .worker("w1"), address: "127.0.0.1:7001", id: part(0))))
        // Its original is gone (removed, or the worker restarted): the coordinator's copy.
        #expect(result[1] == splits[1])
        // Made by another worker: the coordinator's copy.
        #expect(result[2] == splits[2])
    }
}

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
        try FileManager.default.createDirectory(atPath: scratch + "/r1", withIntermediateDirectories: true)
        try Data("a\t1\n".utf8).write(to: URL(fileURLWithPath: scratch + "/r1/part-0"))
        let me = BlobRewriter(holder: "w1", address: "127.0.0.1:7001")
        func copy(_ id: String, madeBy holder: String) -> InputSplit {
            .blob(BlobLocation(
                holder: "coordinator", address: "127.0.0.1:7000", id: "r1/kept-\(id)",
                origin: BlobOrigin(holder: holder, address: "127.0.0.1:7001", id: id)))
        }
        let splits = [copy("r1/part-0", madeBy: "w1"), copy("r1/part-1", madeBy: "w1"), copy("r1/part-2", madeBy: "w2")]
        let (result, inPlace) = await WorkerNode.readingOwnOriginals(splits, handler: handler, identity: me)
        #expect(inPlace == 1)
        #expect(result[0] == .blob(BlobLocation(holder: "w1", address: "127.0.0.1:7001", id: "r1/part-0")))
        // Its original is gone (removed, or the worker restarted): the coordinator's copy.
        #expect(result[1] == splits[1])
        // Made by another worker: the coordinator's copy.
        #expect(result[2] == splits[2])
    }
}

import Foundation
import Testing
@testable import MrshControl
import MrshPlan

/// Blob ids and holders: built in one place, typed, and on the wire as the strings they always were.
@Suite struct BlobIdentityTests {
    static func everyKind(run: String, job: Int) -> [BlobID] {
        let id = JobID(run: run, index: job)
        var all: [BlobID] = []
        for n in 0..<3 {
            for attempt in 0..<2 {
                all.append(.mapOutput(id, task: n, attempt: attempt))
                all.append(.reduceOutput(id, partition: n, attempt: attempt))
                all.append(.keptMapOutput(id, task: n, attempt: attempt))
                all.append(.keptReduceOutput(id, partition: n, attempt: attempt))
            }
            all.append(.standardInput(run: run, chunk: n))
        }
        return all
    }

    @Test func idsOfDifferentKindsNeverShareAPath() {
        let ids = Self.everyKind(run: "r1-1", job: 0) + Self.everyKind(run: "r1-1", job: 1)
            + Self.everyKind(run: "r1-2", job: 0)
        // standardInput ids do not depend on the job: count each once.
        let distinct = Set(ids)
        #expect(Set(distinct.map(\.path)).count == distinct.count)
        #expect(distinct.count == 3 * 3 * 2 * 4 + 2 * 3)
    }

    @Test func pathsAreTheOnesTheStoreAlwaysUsed() {
        let job = JobID(run: "r7-2", index: 3)
        #expect(BlobID.mapOutput(job, task: 4, attempt: 1).path == "r7-2/j3/map-4-a1")
        #expect(BlobID.reduceOutput(job, partition: 5, attempt: 0).path == "r7-2/j3/part-5-a0")
        #expect(BlobID.keptMapOutput(job, task: 4, attempt: 1).path == "r7-2/j3/kept-map-4-a1")
        #expect(BlobID.keptReduceOutput(job, partition: 5, attempt: 2).path == "r7-2/j3/kept-part-5-a2")
        #expect(BlobID.standardInput(run: "r7-2", chunk: 9).path == "r7-2/stdin/chunk-9")
    }

    @Test func everyPathParsesBackToItsID() {
        for id in Self.everyKind(run: "c0ffee-12", job: 4) {
            #expect(BlobID(path: id.path) == id)
        }
    }

    @Test func decodingRefusesWhatNoConstructorMakes() {
        for path in [
            "blob", "../j0/map-0-a0", "./j0/map-0-a0", "r1/j0/map-0-a0/x", "r1//map-0-a0", "r1/j01/map-0-a0",
            "r1/j0/map-0", "r1/j0/map-x-a0", "r1/j0/mapp-0-a0", "r1/stdin/chunk-", "r1/stdin/map-0-a0",
            "r1/j0/kept-0-a0", "/j0/map-0-a0",
        ] {
            #expect(BlobID(path: path) == nil, "\(path)")
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(BlobID.self, from: Data("\"\(path)\"".utf8)) }
        }
    }

    @Test func theKindOfAStandardInputChunkIsKnownWithoutParsing() {
        let chunk = BlobID.standardInput(run: "r1", chunk: 2)
        #expect(chunk.isStandardInput)
        #expect(chunk.kind == .standardInput(chunk: 2))
        let job = JobID(run: "r1", index: 0)
        #expect(!BlobID.mapOutput(job, task: 0, attempt: 0).isStandardInput)
        #expect(!BlobID.keptReduceOutput(job, partition: 0, attempt: 0).isStandardInput)
        let fromStdin = BlobLocation(holder: .coordinator, address: "", id: chunk)
        #expect(JobCoordinator.describeLocation([.blob(fromStdin)]) == "standard input")
        let part = BlobLocation(holder: .local, address: "", id: .reduceOutput(job, partition: 1, attempt: 0))
        #expect(JobCoordinator.describeLocation([.blob(part)]) == "blob r1/j0/part-1-a0")
    }

    /// The shape older peers sent and expect: every field a plain string.
    struct StringlyLocation: Codable, Equatable {
        var holder: String
        var address: String
        var id: String
        var origin: StringlyOrigin?
    }
    struct StringlyOrigin: Codable, Equatable {
        var holder: String
        var address: String
        var id: String
    }

    @Test func theWireEncodingIsTheStringsItWas() throws {
        let job = JobID(run: "r1", index: 2)
        let location = BlobLocation(
            holder: .coordinator, address: "10.0.0.1:7000", id: .keptMapOutput(job, task: 3, attempt: 1),
            origin: BlobOrigin(holder: .worker("w4"), address: "10.0.0.4:7001", id: .mapOutput(job, task: 3, attempt: 1)))
        let data = try JSONEncoder().encode(location)
        let stringly = try JSONDecoder().decode(StringlyLocation.self, from: data)
        #expect(
            stringly
                == StringlyLocation(
                    holder: "coordinator", address: "10.0.0.1:7000", id: "r1/j2/kept-map-3-a1",
                    origin: StringlyOrigin(holder: "w4", address: "10.0.0.4:7001", id: "r1/j2/map-3-a1")))
        #expect(try JSONDecoder().decode(BlobLocation.self, from: JSONEncoder().encode(stringly)) == location)
    }

    @Test func holderNamesRoundTrip() throws {
        for holder in [BlobHolder.local, .coordinator, .worker("w1"), .worker("host-7")] {
            #expect(BlobHolder(named: holder.name) == holder)
            #expect(try JSONDecoder().decode(BlobHolder.self, from: JSONEncoder().encode(holder)) == holder)
        }
        #expect(BlobHolder(named: "local") == .local)
        #expect(BlobHolder(named: "coordinator") == .coordinator)
        #expect(BlobHolder(named: "w1") == .worker("w1"))
    }

    @Test func publishingRelabelsOnlyTheProcesssOwnBlobs() {
        let id = BlobID.mapOutput(JobID(run: "r1", index: 0), task: 0, attempt: 0)
        let own = BlobLocation(holder: .local, address: "", id: id)
        #expect(own.published(as: .worker("w1"), address: "10.0.0.1:7001")
            == BlobLocation(holder: .worker("w1"), address: "10.0.0.1:7001", id: id))
        #expect(own.published(as: .coordinator, address: "10.0.0.9:7000").holder == .coordinator)
        // Another worker's blob, with its address: left as it is.
        let theirs = BlobLocation(holder: .worker("w2"), address: "10.0.0.2:7001", id: id)
        #expect(theirs.published(as: .worker("w1"), address: "10.0.0.1:7001") == theirs)
        // The origin is never relabelled.
        var copy = own
        copy.origin = BlobOrigin(holder: .worker("w2"), address: "10.0.0.2:7001", id: id)
        #expect(copy.published(as: .coordinator, address: "x:1").origin == copy.origin)
    }
}

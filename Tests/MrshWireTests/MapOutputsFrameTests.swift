import Foundation
import MrshPlan
import NIOCore
import Testing

@testable import MrshWire

/// The binary `mapOutputs` frame: every location survives the trip, long lists are cut into frames that
/// fit, and a malformed payload is a `badMessage`, never a crash.
@Suite struct MapOutputsFrameTests {
    static let job = JobID(run: "4f2a9c01e7d3b5a8-7", index: 3)

    /// Updates with every holder kind, every blob kind, origins, large numbers and names repeated.
    static func sample() -> [MapOutputUpdate] {
        let ids: [BlobID] = [
            .mapOutput(job, task: 0, attempt: 0), .mapOutput(job, task: 199_999, attempt: 7),
            .reduceOutput(job, partition: 4_999, attempt: 2), .keptMapOutput(job, task: 12, attempt: 1),
            .keptReduceOutput(job, partition: 3, attempt: 0), .standardInput(run: job.run, chunk: 1 << 40),
            .mapOutput(JobID(run: "other", index: Int.max), task: Int.max, attempt: 128),
        ]
        let holders: [BlobHolder] = [.local, .coordinator, .worker("host-a-1234"), .worker("hôte β 5")]
        var updates: [MapOutputUpdate] = []
        for (i, id) in ids.enumerated() {
            for (j, holder) in holders.enumerated() {
                var location = BlobLocation(holder: holder, address: "127.0.0.1:\(40_000 + j)", id: id)
                if (i + j) % 3 == 0 {
                    location.origin = BlobOrigin(holder: .worker("w\(j)"), address: "[::1]:\(j)", id: ids[(i + 1) % ids.count])
                }
                updates.append(MapOutputUpdate(task: i * 10 + j, location: location))
            }
        }
        return updates
    }

    @Test func everyLocationSurvivesTheTrip() throws {
        let message = ControlMessage.mapOutputs(request: UInt64.max, Self.sample())
        let frame = message.frame()
        #expect(frame.kind == .mapOutputs)
        #expect(try ControlMessage(frame: frame) == message)
        #expect(try ControlMessage(frame: ControlMessage.mapOutputs(request: 0, []).frame()) == .mapOutputs(request: 0, []))
    }

    @Test func itIsAFractionOfTheJSON() throws {
        let updates = (0..<2_000).map { task in
            MapOutputUpdate(
                task: task,
                location: BlobLocation(
                    holder: .worker("worker-\(task % 50)"), address: "10.0.0.\(task % 50):7070",
                    id: .mapOutput(Self.job, task: task, attempt: 0)))
        }
        let binary = MapOutputsFrame.frame(request: 5, updates: updates).payload.readableBytes
        let json = try JSONEncoder().encode(ControlMessage.mapOutputs(request: 5, updates)).count
        #expect(binary * 5 < json, "binary \(binary) bytes, JSON \(json)")
    }

    @Test func aLongListIsCutIntoFramesThatFit() throws {
        func decode(_ frames: [Frame]) throws -> [MapOutputUpdate] {
            var decoded: [MapOutputUpdate] = []
            for frame in frames {
                guard case .mapOutputs(let request, let part) = try ControlMessage(frame: frame) else {
                    Issue.record("not a mapOutputs message")
                    return []
                }
                #expect(request == 9)
                decoded += part
            }
            return decoded
        }
        let updates = (0..<217).map { task in
            MapOutputUpdate(
                task: task,
                location: BlobLocation(holder: .worker("w\(task % 7)"), address: "a:\(task % 7)", id: .mapOutput(Self.job, task: task, attempt: 0)))
        }
        let frames = MapOutputsFrame.frames(request: 9, updates: updates, perFrame: 100)
        #expect(frames.count == 3)
        #expect(try decode(frames) == updates)
        #expect(MapOutputsFrame.frames(request: 9, updates: updates).count == 1)

        // Names so long that 100 updates do not fit the limit: halved until each part fits.
        let long = String(repeating: "x", count: 400)
        let wide = (0..<100).map { task in
            MapOutputUpdate(
                task: task,
                location: BlobLocation(holder: .worker("\(long)\(task)"), address: "\(long)\(task)", id: .mapOutput(Self.job, task: task, attempt: 0)))
        }
        let limit = 4_096
        let wideFrames = MapOutputsFrame.frames(request: 9, updates: wide, perFrame: 100, maxBytes: limit)
        #expect(wideFrames.count > 8)
        for frame in wideFrames { #expect(frame.payload.readableBytes <= limit) }
        #expect(try decode(wideFrames) == wide)
    }

    @Test func everyTruncationIsABadMessage() {
        let payload = MapOutputsFrame.frame(request: 77, updates: Array(Self.sample().prefix(9))).payload
        let bytes = Array(payload.readableBytesView)
        for length in 0..<bytes.count {
            #expect(throws: WireError.self) { try ControlMessage(frame: Frame(kind: .mapOutputs, bytes: bytes[..<length])) }
        }
        #expect(throws: WireError.self) { try ControlMessage(frame: Frame(kind: .mapOutputs, bytes: bytes + [0])) }
    }

    @Test func malformedFieldsAreRefused() {
        func payload(_ build: (inout ByteBuffer) -> Void) -> Frame {
            var buffer = ByteBuffer()
            build(&buffer)
            return Frame(kind: .mapOutputs, payload: buffer)
        }
        func names(_ buffer: inout ByteBuffer, _ names: [String]) {
            buffer.writeVarint(1)  // request
            buffer.writeVarint(UInt64(names.count))
            for name in names {
                buffer.writeVarint(UInt64(name.utf8.count))
                buffer.writeString(name)
            }
        }
        func update(_ buffer: inout ByteBuffer, holder: UInt64 = 0, run: UInt64 = 1, kind: UInt8 = 0, origin: UInt8 = 0) {
            buffer.writeVarint(1)  // one update
            buffer.writeVarint(5)  // task
            buffer.writeVarint(holder)
            buffer.writeVarint(0)  // address
            buffer.writeVarint(run)
            buffer.writeInteger(kind)
            for _ in 0..<3 { buffer.writeVarint(1) }
            buffer.writeInteger(origin)
        }
        let good = payload { names(&$0, ["w", "run"]); update(&$0) }
        #expect(throws: Never.self) { try ControlMessage(frame: good) }
        let cases: [(String, Frame)] = [
            ("a name index past the table", payload { names(&$0, ["w", "run"]); update(&$0, holder: 2) }),
            ("a run of '..'", payload { names(&$0, ["w", ".."]); update(&$0) }),
            ("a run with a slash", payload { names(&$0, ["w", "a/b"]); update(&$0) }),
            ("an unknown blob kind", payload { names(&$0, ["w", "run"]); update(&$0, kind: 9) }),
            ("an origin flag of 2", payload { names(&$0, ["w", "run"]); update(&$0, origin: 2) }),
            ("an 11-byte varint", payload { $0.writeBytes([UInt8](repeating: 0xFF, count: 10) + [0x01]) }),
            ("a request past 64 bits", payload { $0.writeBytes([UInt8](repeating: 0xFF, count: 9) + [0x02]) }),
            ("a count past the frame", payload { names(&$0, ["w", "run"]); $0.writeVarint(1 << 40) }),
            ("a task past Int.max", payload {
                names(&$0, ["w", "run"])
                $0.writeVarint(1)
                $0.writeVarint(UInt64(Int.max) + 1)
            }),
        ]
        for (what, frame) in cases {
            #expect(throws: WireError.self, "\(what)") { try ControlMessage(frame: frame) }
        }
    }
}

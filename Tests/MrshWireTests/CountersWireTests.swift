import Foundation
import MrshPlan
import Testing

@testable import MrshWire

/// Counters travel in task results and job summaries as they are: user counters and probe counts arrive
/// whole, and a value encoded without the newer keys (a peer that knows fewer counters) still decodes.
@Suite struct CountersWireTests {
    @Test func userCountersAndStagesTravelInTaskResults() throws {
        var counters = Counters()
        counters.recordsIn = 10
        counters.user = ["errors": 3, "all": 10]
        counters.stages = ["m0.0": StageCount(records: 10, bytes: 120)]
        counters.taskNanoseconds = 1_500_000
        let result = MapTaskResult(task: 1, attempt: 2, output: .file(path: "/x"), partitionSizes: [], counters: counters)
        let message = ControlMessage.taskDone(request: 4, .map(result))
        #expect(try ControlMessage(frame: message.frame()) == message)
    }

    @Test func missingKeysDecodeAsZero() throws {
        let old = #"{"recordsIn":1,"bytesIn":2,"recordsOut":3,"bytesOut":4,"spilledBytes":5,"skippedRecords":6}"#
        let counters = try JSONDecoder().decode(Counters.self, from: Data(old.utf8))
        #expect(counters.recordsIn == 1 && counters.bytesOut == 4 && counters.skippedRecords == 6)
        #expect(counters.user.isEmpty && counters.stages.isEmpty && counters.taskNanoseconds == 0)
        #expect(try JSONDecoder().decode(Counters.self, from: Data("{}".utf8)) == Counters())
        let report = #"{"job":0,"mapTasks":2,"reduceTasks":1,"retries":0,"map":\#(old),"reduce":{},"elapsed":0.5}"#
        let decoded = try JSONDecoder().decode(JobReport.self, from: Data(report.utf8))
        #expect(decoded.partitionRecords.isEmpty && decoded.map == counters)
    }

    @Test func summingAddsUserCountersByName() {
        var a = Counters()
        a.user = ["x": 1, "y": 2]
        a.stages = ["r.0": StageCount(records: 1, bytes: 5)]
        var b = Counters()
        b.user = ["y": 3, "z": 4]
        b.stages = ["r.0": StageCount(records: 2, bytes: 7), "r.1": StageCount(records: 1, bytes: 1)]
        a.add(b)
        #expect(a.user == ["x": 1, "y": 5, "z": 4])
        #expect(a.stages == ["r.0": StageCount(records: 3, bytes: 12), "r.1": StageCount(records: 1, bytes: 1)])
    }
}

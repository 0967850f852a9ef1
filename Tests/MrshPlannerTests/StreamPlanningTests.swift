import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

/// Where `stream "COMMAND"` goes in a plan, and what it does to field names.
@Suite("planning stream")
struct StreamPlanningTests {
    @Test("stream fuses into the map side before a shuffle and into the reduce side after one")
    func placement() throws {
        let plan = try planScript(#"read a.log | grep "x" | stream "cut -f 2" | map words | reduce count | stream "sort -k2n""#)
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs[0].mapOps == [.grep(.literal("x"), negated: false), .stream(command: "cut -f 2"), .words])
        #expect(plan.jobs[0].reduceOps == [.stream(command: "sort -k2n")])
        #expect(plan.streamCommands == ["cut -f 2", "sort -k2n"])
    }

    @Test("field names do not survive a stream; field numbers do")
    func fieldsAfterStream() throws {
        #expect(throws: (any Error).self) {
            try planScript(#"read a.log | split as ip, path | stream "cat" | where path == "/""#)
        }
        let plan = try planScript(#"read a.log | split as ip, path | stream "cat" | where $2 == "/""#)
        #expect(plan.jobs[0].mapOps.count == 3)
        #expect(plan.jobs[0].sources[0].fieldNames == nil)
    }
}

import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

@Suite("planner")
struct PlannerTests {
    func plan(_ source: String) throws -> JobPlan { try planScript(source) }

    @Test("record stages fuse into one map task; reduce makes a shuffle with a combiner")
    func wordCount() throws {
        let plan = try plan(#"read "logs/*" | grep "x" | map words | reduce count | write out/"#)
        #expect(plan.jobs.count == 1)
        let job = plan.jobs[0]
        #expect(job.input == .files(["logs/*"]))
        #expect(job.mapOps == [.grep(.literal("x"), negated: false), .words])
        #expect(job.shuffle == .aggregate(.count))
        #expect(job.output == .directory(path: "out/", overwrite: false))
    }

    @Test("no read means standard input; a map-only pipeline has no shuffle")
    func standardInput() throws {
        let plan = try plan(#"grep "error""#)
        #expect(plan.jobs == [JobSpec(id: 0, input: .standardInput, mapOps: [.grep(.literal("error"), negated: false)],
                                      output: .standardOutput)])
    }

    @Test("each further shuffle starts a job reading the previous job's parts")
    func chain() throws {
        let plan = try plan(#"read "a" | map words | reduce count | sort by value desc | take 10"#)
        #expect(plan.jobs.count == 2)
        #expect(plan.jobs[0].output == .intermediate)
        #expect(plan.jobs[1].input == .job(0))
        #expect(plan.jobs[1].shuffle == .sort(SortOrder(field: .value, descending: true), limit: 10))
        #expect(plan.finalLimit == 10)
    }

    @Test("take before more stages gathers the first records in input order")
    func takeThenMore() throws {
        let plan = try plan(#"read "a" | take 5 | map words"#)
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs[0].mapLimit == 5)
        #expect(plan.jobs[0].shuffle == .gather(limit: 5))
        #expect(plan.jobs[0].reducers == 1)
        #expect(plan.jobs[0].reduceOps == [.words])
    }

    @Test("write after a map-only pipeline stays map-only: its parts keep the input order")
    func writeMapOnly() throws {
        let plan = try plan(#"read "a" | grep "x" | write out"#)
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs[0].shuffle == nil)
        #expect(plan.jobs[0].output == .directory(path: "out", overwrite: false))
    }

    @Test("count goes through a single reducer")
    func count() throws {
        let plan = try plan(#"read "a" | count"#)
        #expect(plan.jobs[0].shuffle == .count)
        #expect(plan.jobs[0].reducers == 1)
    }

    @Test("a binding is inlined where it is used")
    func binding() throws {
        let plan = try plan("let e = read \"logs/*\" | grep \"e\"\ne | count")
        #expect(plan.jobs[0].input == .files(["logs/*"]))
        #expect(plan.jobs[0].mapOps == [.grep(.literal("e"), negated: false)])
    }

    @Test("tag file after a shuffle is an error pointing at the stage")
    func tagAfterShuffle() throws {
        let script = try parseScript(#"read "a" | reduce count | tag file"#).get()
        guard case .run(let pipeline) = script.statements.first else { Issue.record("not a pipeline"); return }
        #expect(throws: PlanError.self) { try Planner().plan(pipeline) }
        do {
            _ = try Planner().plan(pipeline)
        } catch {
            #expect(error.range.start.column == 27)
        }
    }
}

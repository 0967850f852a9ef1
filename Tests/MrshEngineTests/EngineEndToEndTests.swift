import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

@Suite struct EngineEndToEndTests {
    @Test func wordCountThroughAShuffle() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", "the cat sat\non the mat\n")
        dir.write("in/b.txt", "the end")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in/*.txt")]), mapOps: [.words], shuffle: .aggregate(.count),
                    output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, scratch: dir.file("scratch"))
        #expect(lines == ["cat\t1", "end\t1", "mat\t1", "on\t1", "sat\t1", "the\t3"])
        #expect(summary.jobs.count == 1)
        #expect(dir.list("scratch").filter { $0 != "tmp" }.isEmpty)
    }
}

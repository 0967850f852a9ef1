import Foundation
import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

/// `explain` output of each Golden/*.mr script is pinned by Golden/*.explain.
@Suite("explain golden files")
struct ExplainGoldenTests {
    static let scripts: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Golden.directory.path)) ?? []
        return names.filter { $0.hasSuffix(".mr") }.sorted()
    }()

    @Test("there are golden scripts")
    func nonEmpty() { #expect(Self.scripts.count >= 10) }

    @Test("explain matches the golden file", arguments: scripts)
    func explain(_ name: String) throws {
        let source = try String(contentsOf: Golden.directory.appendingPathComponent(name), encoding: .utf8)
        let script = try parseScript(source).get()
        var planner = Planner()
        var text = ""
        for statement in script.statements {
            switch statement {
            case .bind(let name, _, let pipeline): try planner.bind(name, to: pipeline)
            case .run(let pipeline), .explain(let pipeline), .explainAnalyze(let pipeline):
                text += Explain.render(try planner.plan(pipeline), reducers: 4)
            }
        }
        Golden.check(text, against: name.replacingOccurrences(of: ".mr", with: ".explain"))
    }
}

extension ExplainGoldenTests {
    /// A job of two sources (no statement makes one yet): each source with its input and map operators.
    @Test("explain draws a job of two sources, one of them an earlier job")
    func twoSources() {
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files(["users.tsv"]), mapOps: [.split(.whitespace)], shuffle: .distinct,
                    output: .intermediate),
            JobSpec(
                id: 1,
                sources: [
                    JobSource(input: .job(0)),
                    JobSource(input: .files(["logs/*"]), mapOps: [.grep(.literal("GET"), negated: false), .pick([3, 1])],
                              mapLimit: 100),
                ],
                shuffle: .aggregate(.collect), output: .directory(path: "out", overwrite: false)),
        ])
        Golden.check(Explain.render(plan, reducers: 4), against: "two-sources.explain")
    }
}

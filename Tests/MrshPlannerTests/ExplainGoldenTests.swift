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
            case .run(let pipeline), .explain(let pipeline):
                text += Explain.render(try planner.plan(pipeline), reducers: 4)
            }
        }
        Golden.check(text, against: name.replacingOccurrences(of: ".mr", with: ".explain"))
    }
}

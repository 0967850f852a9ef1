import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

/// The plan of the last pipeline of `source` (earlier `let`s bound first), with `csvHeader` as every CSV
/// file's header.
func planScript(_ source: String, csvHeader: [String]? = nil) throws -> JobPlan {
    let script = try parseScript(source).get()
    var planner = Planner(csvHeaderReader: csvHeader.map { names in { @Sendable _ in names } })
    var result: JobPlan?
    for statement in script.statements {
        switch statement {
        case .bind(let name, _, let pipeline): try planner.bind(name, to: pipeline)
        case .run(let pipeline), .explain(let pipeline), .explainAnalyze(let pipeline): result = try planner.plan(pipeline)
        }
    }
    return try #require(result)
}

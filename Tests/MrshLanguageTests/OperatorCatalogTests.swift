import MrshLanguage
import Testing

@Suite struct OperatorCatalogTests {
    @Test func everyStageOperatorIsInTheCatalog() {
        #expect(
            OperatorCatalog.stageNames == [
                "read", "grep", "map", "split", "parse", "where", "counter", "select", "pick", "extract", "tag", "reduce",
                "sort", "top", "take", "distinct", "count", "join", "union", "stream", "write",
            ])
        #expect(OperatorCatalog.info("let")?.kind == .statement)
        #expect(OperatorCatalog.info("explain")?.kind == .statement)
        #expect(OperatorCatalog.info("join")?.kind == .stage)
        #expect(OperatorCatalog.info("union")?.kind == .stage)
        #expect(OperatorCatalog.info("stream")?.kind == .stage)
    }

    @Test func keywordsForCompletion() {
        #expect(OperatorCatalog.keywords(after: "reduce") == ["count", "sum", "min", "max", "avg", "collect", "distinct", "ndistinct"])
        #expect(OperatorCatalog.keywords(after: "map") == ["words", "lower", "upper", "trim"])
        #expect(OperatorCatalog.keywords(after: "sort") == ["by", "key", "value", "record", "asc", "desc"])
        #expect(OperatorCatalog.keywords(after: "grep") == ["not"])
        #expect(OperatorCatalog.keywords(after: "tag") == ["file"])
        #expect(OperatorCatalog.keywords(after: "write") == ["overwrite"])
        #expect(OperatorCatalog.keywords(after: "nope") == [])
    }

    @Test func everyKeywordParsesAfterItsOperator() {
        for name in ["map", "reduce", "tag"] {
            for keyword in OperatorCatalog.keywords(after: name) {
                #expect(TestSupport.operators("\(name) \(keyword)") != nil, "\(name) \(keyword)")
            }
        }
    }

    @Test func helpTextMentionsUsageAndExample() throws {
        let info = try #require(OperatorCatalog.info("reduce"))
        #expect(info.helpText.contains("reduce AGG [as NAME], ... [by EXPR [as NAME], ...]"))
        #expect(info.helpText.contains(info.example))
    }

    @Test func suggestions() {
        #expect(Suggestion.nearest(to: "mapp", among: OperatorCatalog.stageNames) == "map")
        #expect(Suggestion.nearest(to: "tkae", among: OperatorCatalog.stageNames) == "take")
        #expect(Suggestion.nearest(to: "xyzzy", among: OperatorCatalog.stageNames) == nil)
        #expect(Suggestion.nearest(to: "", among: OperatorCatalog.stageNames) == nil)
    }
}

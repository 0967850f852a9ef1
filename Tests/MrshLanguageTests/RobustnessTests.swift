import MrshLanguage
import MrshTestSupport
import Testing

/// Random byte and token soups: the parser must return, and every diagnostic must point inside the source.
@Suite struct RobustnessTests {

    static let fragments = [
        "read", "grep", "not", "map", "words", "split", "pick", "extract", "tag", "file", "reduce", "count",
        "sort", "by", "value", "desc", "take", "distinct", "write", "overwrite", "let", "explain", "join",
        "stream", "x", "|", "|", "=", ",", ";", "\n", "\n", "#", " ", " ", "\t", "\"", "\"a b\"", "\\", "/",
        "/a/", "/a/i", "/", "1", "0", "-2", "99999999999999999999", "out/", "*.txt", "~", "é", "日本",
        "\u{1F600}", "\u{0}", "\r", "\\u{41}", "{", "}", "@",
    ]

    @Test func tokenSoups() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            var source = ""
            for _ in 0..<Int.random(in: 0...24, using: &rng) {
                source += Self.fragments.randomElement(using: &rng) ?? ""
                if Bool.random(using: &rng) { source += " " }
            }
            check(source)
        }
    }

    @Test func byteSoups() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...48, using: &rng)).map { _ in
                Bool.random(using: &rng)
                    ? UInt8.random(in: 0...255, using: &rng)
                    : Array("|/\"\\#;=, \nabc1-*".utf8).randomElement(using: &rng) ?? 0
            }
            check(String(decoding: bytes, as: UTF8.self))
        }
    }

    private func check(_ source: String) {
        let length = source.utf8.count
        let lines = 1 + source.utf8.filter { $0 == UInt8(ascii: "\n") }.count
        switch parseScript(source) {
        case .success:
            break
        case .failure(let list):
            #expect(!list.diagnostics.isEmpty)
            for d in list.diagnostics {
                let r = d.range
                let inside =
                    0 <= r.start.offset && r.start.offset <= r.end.offset && r.end.offset <= length
                    && r.start.line >= 1 && r.start.line <= lines && r.start.column >= 1
                #expect(inside, "range \(r) outside \(source.debugDescription)")
                let rendered = d.render(source: source, fileName: "soup")
                #expect(rendered.contains("^"), "no caret for \(source.debugDescription)")
            }
        }
        _ = StatementCompleteness(of: source)
    }
}

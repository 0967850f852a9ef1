import MrshLanguage

/// libFuzzer entry point: the bytes, decoded leniently as UTF-8 (invalid sequences become U+FFFD), are a
/// script. It must parse or yield diagnostics without trapping; every diagnostic is rendered (plain and in
/// colour); the REPL's `StatementCompleteness` classifies it. Invariants checked (a failure traps, which
/// libFuzzer reports as a crash):
/// - every range lies inside the source, starts before it ends, and its line and column agree with its offset;
/// - a rendered diagnostic names the file and the range's line and column;
/// - a buffer classified `.empty` parses to no statements.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? UnsafeRawBufferPointer(start: nil, count: 0)
    let source = String(decoding: bytes, as: UTF8.self)
    let index = SourceIndex(source)

    // Known bindings (as a REPL session would pass them) for half of the inputs, chosen by the data.
    let bindings: Set<String> = (bytes.first ?? 0) & 1 == 1 ? ["words", "x", "lines"] : []
    switch parseScript(source, knownBindings: bindings) {
    case .success(let script):
        for statement in script.statements {
            switch statement {
            case .run(let pipeline), .explain(let pipeline), .explainAnalyze(let pipeline):
                check(pipeline, index)
            case .bind(let name, let nameRange, let pipeline):
                precondition(!name.isEmpty, "empty binding name")
                index.check(nameRange, "binding name")
                check(pipeline, index)
            }
        }
        if StatementCompleteness(of: source) == .empty {
            precondition(script.statements.isEmpty, "an .empty buffer parsed to statements")
        }
    case .failure(let list):
        precondition(!list.diagnostics.isEmpty, "a failed parse without diagnostics")
        for (number, diagnostic) in list.diagnostics.enumerated() {
            index.check(diagnostic.range, "diagnostic '\(diagnostic.message)'")
            precondition(!diagnostic.message.isEmpty, "empty diagnostic message")
            // Rendering one diagnostic alone scans the source for its line: keep the harness linear.
            guard number < 16 else { continue }
            let plain = diagnostic.render(source: source, fileName: "fuzz.mr")
            let position = "fuzz.mr:\(diagnostic.range.start.line):\(diagnostic.range.start.column)"
            precondition(plain.contains(position), "rendered diagnostic lacks \(position)")
            precondition(plain.contains("^"), "rendered diagnostic lacks a caret")
            _ = diagnostic.render(source: source, fileName: "fuzz.mr", useColor: true)
        }
        _ = list.render(source: source, fileName: "fuzz.mr")
        precondition(StatementCompleteness(of: source) != .empty, "an .empty buffer has diagnostics")
    }
    _ = Lexer.tokenize(source).map(\.kind.description)
    return 0
}

private func check(_ pipeline: Pipeline, _ index: SourceIndex) {
    precondition(!pipeline.stages.isEmpty, "a pipeline without stages")
    index.check(pipeline.range, "pipeline")
    for stage in pipeline.stages {
        index.check(stage.range, "stage")
    }
}

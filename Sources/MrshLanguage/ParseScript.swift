/// Parses a whole script: its statements, or every diagnostic (at most one per statement).
///
/// - Parameter knownBindings: names bound before this source, e.g. by a REPL session's earlier `let`s.
public func parseScript(_ source: String, knownBindings: Set<String> = []) -> Result<Script, DiagnosticList> {
    var parser = Parser(source: source, knownBindings: knownBindings)
    return parser.parse()
}

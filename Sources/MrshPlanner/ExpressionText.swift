import MrshPlan

/// Writes a `FieldExpression` back in the language's syntax (fields as `$N`), fully parenthesised where
/// precedence could be misread, for `explain`.
enum ExpressionText {
    static func render(_ expression: FieldExpression) -> String {
        switch expression {
        case .field(let n): return "$\(n)"
        case .integer(let v): return String(v)
        case .decimal(let v): return v.description
        case .string(let s): return Explain.quoted(s)
        case .boolean(let b): return b ? "true" : "false"
        case .negate(let e): return "-" + operand(e)
        case .not(let e): return "not " + operand(e)
        case .arithmetic(let op, let l, let r): return operand(l) + " \(op.rawValue) " + operand(r)
        case .comparison(let op, let l, let r): return operand(l) + " \(op.rawValue) " + operand(r)
        case .and(let l, let r): return operand(l) + " and " + operand(r)
        case .or(let l, let r): return operand(l) + " or " + operand(r)
        case .matches(let e, let regex, let caseInsensitive, let negated):
            return operand(e) + (negated ? " !~ " : " ~ ") + "/\(Explain.regexBody(regex))/" + (caseInsensitive ? "i" : "")
        case .isIn(let e, let list, let negated):
            return operand(e) + (negated ? " not in (" : " in (") + list.map(render).joined(separator: ", ") + ")"
        case .call(let function, let arguments):
            return function.rawValue + "(" + arguments.map(render).joined(separator: ", ") + ")"
        }
    }

    /// An operand: parenthesised unless it is atomic.
    private static func operand(_ expression: FieldExpression) -> String {
        switch expression {
        case .integer(let v) where v < 0: return "(" + render(expression) + ")"
        case .decimal(let v) where v < 0: return "(" + render(expression) + ")"
        case .field, .integer, .decimal, .string, .boolean, .call: return render(expression)
        default: return "(" + render(expression) + ")"
        }
    }
}

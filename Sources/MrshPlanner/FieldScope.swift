import MrshDataPath
import MrshLanguage
import MrshPlan

/// The fields a stage's records have, as far as the planner knows them: names for the first fields, and
/// whether more may follow. It flows through the pipeline while the planner compiles it: `split ... as`,
/// `parse`, `select`, `reduce`, `pick`, `tag file` and `map words` define it; filters keep it.
struct FieldScope: Sendable, Equatable {
    /// Names of fields 1, 2, ...; nil where a field has no name.
    var names: [String?]
    /// Whether records may have fields after `names` (then their count is unknown).
    var isOpen: Bool
    /// Names of fields that exist but have no number here (`tag file`, or a join's right fields, after a
    /// split of unknown width), each with the stage that made it (for the hint).
    var unnumbered: [String: String] = [:]

    init(names: [String?], isOpen: Bool) {
        self.names = names
        self.isOpen = isOpen
    }

    /// Fields nobody has named yet (after `read`, `split` without `as`, ...).
    static let unknown = FieldScope(names: [], isOpen: true)

    /// The 1-based number of the field named `name`.
    func number(of name: String) -> Int? {
        names.firstIndex(of: name).map { $0 + 1 }
    }

    var knownNames: [String] { names.compactMap { $0 } }

    /// For `explain`: the names, `$N` where a field has none, `...` when more may follow; nil when no
    /// field has a name.
    var description: [String]? {
        guard names.contains(where: { $0 != nil }) else { return nil }
        var out = names.enumerated().map { $0.element ?? "$\($0.offset + 1)" }
        if isOpen { out.append("...") }
        return out
    }
}

/// What an expression yields, as far as the checker can tell. Fields are `text` that may also count as
/// numbers at run time (awk's numeric strings).
enum ValueType: Sendable, Equatable {
    case boolean, number, text

    var article: String {
        switch self {
        case .boolean: return "a condition (true or false)"
        case .number: return "a number"
        case .text: return "text"
        }
    }
}

/// Resolves names to field numbers and checks types, turning the parser's `Expression` into the plan's
/// `FieldExpression`. Every mistake is a `PlanError` at the offending text.
struct ExpressionChecker {
    let scope: FieldScope

    /// A condition (`where`, the operands of `and`, `or`, `not`, `if`'s first argument): the expression must
    /// be boolean.
    func condition(_ expression: Expression, for context: String) throws(PlanError) -> FieldExpression {
        let (resolved, type) = try check(expression)
        guard type == .boolean else {
            throw PlanError(
                message: "\(context) needs a condition (true or false), found \(type.article)", range: expression.range,
                help: ExpressionChecker.comparisonHint(expression, type))
        }
        return resolved
    }

    /// "compare it with something", as the value's type suggests.
    static func comparisonHint(_ expression: Expression, _ type: ValueType) -> String {
        "compare it with something: \(text(of: expression)) " + (type == .number ? "> 0" : "!= \"\"")
    }

    /// A value (number or text; a condition prints as true or false).
    func value(_ expression: Expression) throws(PlanError) -> FieldExpression {
        try check(expression).0
    }

    /// A value that an aggregate reads: not a condition.
    func aggregateInput(_ expression: Expression, for function: String) throws(PlanError) -> FieldExpression {
        let (resolved, type) = try check(expression)
        if type == .boolean {
            throw PlanError(
                message: "'\(function)' needs a value, found a condition", range: expression.range,
                help: "count the records where it holds instead: where \(ExpressionChecker.text(of: expression)) | reduce count ...")
        }
        return resolved
    }

    func check(_ expression: Expression) throws(PlanError) -> (FieldExpression, ValueType) {
        switch expression.kind {
        case .field(let n):
            return (.field(n), .text)
        case .name(let name):
            return (.field(try field(named: name, at: expression.range)), .text)
        case .integer(let v):
            return (.integer(v), .number)
        case .decimal(let v):
            return (.decimal(v), .number)
        case .string(let s):
            return (.string(s), .text)
        case .boolean(let b):
            return (.boolean(b), .boolean)
        case .unary(.negate, let operand):
            return (.negate(try number(operand, for: "'-'")), .number)
        case .unary(.not, let operand):
            return (.not(try condition(operand, for: "'not'")), .boolean)
        case .binary(let op, let left, let right):
            return try binary(op, left, right)
        case .matches(let operand, let regex, let caseInsensitive, let negated):
            let value = try nonBoolean(operand, for: negated ? "'!~'" : "'~'")
            try ExpressionChecker.checkRegex(regex, caseInsensitive: caseInsensitive, at: expression.range)
            return (.matches(value, regex: regex, caseInsensitive: caseInsensitive, negated: negated), .boolean)
        case .isIn(let operand, let items, let negated):
            let value = try nonBoolean(operand, for: "'in'")
            var list: [FieldExpression] = []
            for item in items { list.append(try nonBoolean(item, for: "'in'")) }
            return (.isIn(value, list, negated: negated), .boolean)
        case .call(let name, let nameRange, let arguments):
            return try call(name, nameRange: nameRange, arguments, whole: expression)
        }
    }

    private func binary(_ op: BinaryOperator, _ left: Expression, _ right: Expression) throws(PlanError) -> (FieldExpression, ValueType) {
        let symbol = "'\(op.rawValue)'"
        switch op {
        case .add, .subtract, .multiply, .divide, .remainder:
            let a = try number(left, for: symbol)
            let b = try number(right, for: symbol)
            let arithmetic: ArithmeticOperator
            switch op {
            case .add: arithmetic = .add
            case .subtract: arithmetic = .subtract
            case .multiply: arithmetic = .multiply
            case .divide: arithmetic = .divide
            default: arithmetic = .remainder
            }
            return (.arithmetic(arithmetic, a, b), .number)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            let (a, typeA) = try check(left)
            let (b, typeB) = try check(right)
            if (typeA == .boolean) != (typeB == .boolean) || (typeA == .boolean && op != .equal && op != .notEqual) {
                let culprit = typeA == .boolean ? left : right
                throw PlanError(
                    message: "\(symbol) cannot compare a condition with \(typeA == .boolean ? typeB.article : typeA.article)",
                    range: culprit.range, help: "conditions combine with and, or, not")
            }
            let comparison = ComparisonOperator(rawValue: op.rawValue) ?? .equal
            return (.comparison(comparison, a, b), .boolean)
        case .and, .or:
            let a = try condition(left, for: symbol)
            let b = try condition(right, for: symbol)
            return (op == .and ? .and(a, b) : .or(a, b), .boolean)
        }
    }

    private func call(
        _ name: String, nameRange: SourceRange, _ arguments: [Expression], whole: Expression
    ) throws(PlanError) -> (FieldExpression, ValueType) {
        // A field that a reduce named after its aggregate (`sum(bytes)`) is referred to by that text.
        if let n = scope.number(of: ExpressionChecker.text(of: whole)) { return (.field(n), .text) }
        guard let function = ScalarFunction(rawValue: name) else {
            if ReduceFunction(rawValue: name) != nil {
                let fields = scope.knownNames.filter { $0.hasPrefix(name + "(") }
                throw PlanError(
                    message: "unknown field '\(ExpressionChecker.text(of: whole))'", range: whole.range,
                    help: fields.isEmpty
                        ? "'\(name)' is an aggregate: it goes in a reduce, such as reduce \(name)(bytes) by status"
                        : "did you mean '\(fields[0])'?")
            }
            let names = ScalarFunction.allCases.map(\.rawValue)
            if let suggestion = Suggestion.nearest(to: name, among: names) {
                throw PlanError(message: "unknown function '\(name)'", range: nameRange, help: "did you mean '\(suggestion)'?")
            }
            throw PlanError(
                message: "unknown function '\(name)'", range: nameRange, help: "functions are: \(names.joined(separator: ", "))")
        }
        guard arguments.count == function.arity else {
            let plural = function.arity == 1 ? "argument" : "arguments"
            throw PlanError(
                message: "'\(name)' takes \(function.arity) \(plural), found \(arguments.count)", range: whole.range,
                help: "write: \(ExpressionChecker.signature(function))")
        }
        let context = "'\(name)'"
        switch function {
        case .len:
            return (.call(function, [try nonBoolean(arguments[0], for: context)]), .number)
        case .lower, .upper, .trim:
            return (.call(function, [try nonBoolean(arguments[0], for: context)]), .text)
        case .substr:
            let s = try nonBoolean(arguments[0], for: context)
            let start = try number(arguments[1], for: context)
            let length = try number(arguments[2], for: context)
            return (.call(function, [s, start, length]), .text)
        case .contains, .startswith, .endswith:
            let a = try nonBoolean(arguments[0], for: context)
            let b = try nonBoolean(arguments[1], for: context)
            return (.call(function, [a, b]), .boolean)
        case .int, .num:
            return (.call(function, [try number(arguments[0], for: context)]), .number)
        case .if:
            let condition = try condition(arguments[0], for: "'if'")
            let (a, typeA) = try check(arguments[1])
            let (b, typeB) = try check(arguments[2])
            if (typeA == .boolean) != (typeB == .boolean) {
                throw PlanError(
                    message: "'if' gives a condition in one branch and \(typeA == .boolean ? typeB.article : typeA.article) in the other",
                    range: whole.range, help: "give both branches the same kind of value")
            }
            let type: ValueType = typeA == typeB ? typeA : .text
            return (.call(function, [condition, a, b]), type)
        }
    }

    // MARK: - Operand kinds

    private func number(_ expression: Expression, for context: String) throws(PlanError) -> FieldExpression {
        let (resolved, type) = try check(expression)
        if type == .boolean {
            throw PlanError(message: "\(context) needs a number, found a condition", range: expression.range)
        }
        if case .string(let text) = expression.kind, NumericValue.parse(Array(text.utf8)) == nil {
            throw PlanError(
                message: "\(context) needs a number, found the text \(Explain.quoted(text))", range: expression.range,
                help: "arithmetic works on numbers and on fields that hold numbers")
        }
        return resolved
    }

    private func nonBoolean(_ expression: Expression, for context: String) throws(PlanError) -> FieldExpression {
        let (resolved, type) = try check(expression)
        if type == .boolean {
            throw PlanError(message: "\(context) needs a value, found a condition", range: expression.range)
        }
        return resolved
    }

    // MARK: - Names

    /// The number of the field named `name`, or an error with the best hint there is.
    func field(named name: String, at range: SourceRange) throws(PlanError) -> Int {
        if let n = scope.number(of: name) { return n }
        if let stage = scope.unnumbered[name] {
            throw PlanError(
                message: "field '\(name)' has no number here", range: range,
                help: "'\(stage)' adds it after fields whose number is unknown (a split may find more than it names); "
                    + "select the fields you need before it: split as a, b | select a, b | \(stage) ...")
        }
        let known = scope.knownNames
        if known.isEmpty {
            throw PlanError(
                message: "unknown field '\(name)'", range: range,
                help: "the records have no named fields here: name them with split ... as NAME, ..., parse csv header, "
                    + "or use a field number such as $1")
        }
        if let suggestion = Suggestion.nearest(to: name, among: known) {
            throw PlanError(message: "unknown field '\(name)'", range: range, help: "did you mean '\(suggestion)'?")
        }
        throw PlanError(message: "unknown field '\(name)'", range: range, help: "the fields here are: \(known.joined(separator: ", "))")
    }

    /// A regex is compiled once at check time, so a bad one is a script error.
    static func checkRegex(_ source: String, caseInsensitive: Bool, at range: SourceRange) throws(PlanError) {
        try checkCompiles(.grep(.regex(source, caseInsensitive: caseInsensitive), negated: false), at: range)
    }

    /// Compiles `op` (its regex) once, so a bad one is a script error at `range` rather than a task failure.
    static func checkCompiles(_ op: RecordOp, at range: SourceRange) throws(PlanError) {
        do {
            _ = try RecordPipeline([op])
        } catch {
            throw PlanError(message: "\(error)", range: range)
        }
    }

    // MARK: - Text

    /// An expression written back in canonical form: the default name of `sum(bytes)`, and the text by
    /// which later stages refer to it.
    static func text(of expression: Expression) -> String {
        switch expression.kind {
        case .field(let n): return "$\(n)"
        case .name(let name):
            let isPlain = name.utf8.first.map { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 == 0x5F } ?? false
                && name.utf8.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) }
            return isPlain ? name : "`\(name)`"
        case .integer(let v): return String(v)
        case .decimal(let v): return v.description
        case .string(let s): return Explain.quoted(s)
        case .boolean(let b): return b ? "true" : "false"
        case .unary(.negate, let e): return "-" + text(of: e)
        case .unary(.not, let e): return "not " + text(of: e)
        case .binary(let op, let l, let r): return "\(text(of: l)) \(op.rawValue) \(text(of: r))"
        case .matches(let e, let regex, let ci, let negated):
            return text(of: e) + (negated ? " !~ " : " ~ ") + "/\(Explain.regexBody(regex))/" + (ci ? "i" : "")
        case .isIn(let e, let items, let negated):
            return text(of: e) + (negated ? " not in (" : " in (") + items.map(text(of:)).joined(separator: ", ") + ")"
        case .call(let name, _, let arguments):
            return name + "(" + arguments.map(text(of:)).joined(separator: ", ") + ")"
        }
    }

    static func signature(_ function: ScalarFunction) -> String {
        switch function {
        case .len, .lower, .upper, .trim: return "\(function.rawValue)(text)"
        case .int, .num: return "\(function.rawValue)(value)"
        case .substr: return "substr(text, start, length)"
        case .contains, .startswith, .endswith: return "\(function.rawValue)(text, part)"
        case .if: return "if(condition, then, else)"
        }
    }
}

/// A position in a script: 1-based line and column (columns count Unicode scalars), and the UTF-8 offset.
public struct SourceLocation: Sendable, Hashable, Codable, Comparable {
    public var line: Int
    public var column: Int
    public var offset: Int
    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool { a.offset < b.offset }
}

/// A half-open range of a script's text.
public struct SourceRange: Sendable, Hashable, Codable {
    public var start: SourceLocation
    public var end: SourceLocation
    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }
}

/// A parsed script: statements separated by newlines or `;`.
public struct Script: Sendable, Hashable {
    public var statements: [Statement]
    public init(statements: [Statement]) { self.statements = statements }
}

public enum Statement: Sendable, Hashable {
    /// `PIPELINE`: runs it.
    case run(Pipeline)
    /// `let NAME = PIPELINE`: binds NAME to the pipeline; later pipelines may start with NAME.
    case bind(name: String, nameRange: SourceRange, pipeline: Pipeline)
    /// `explain PIPELINE`: prints the task graph without running it.
    case explain(Pipeline)
    /// `explain analyze PIPELINE`: runs it, then prints the task graph with what each stage did.
    case explainAnalyze(Pipeline)
}

/// `stage | stage | ...`, possibly over several lines.
public struct Pipeline: Sendable, Hashable {
    public var stages: [Stage]
    public var range: SourceRange
    public init(stages: [Stage], range: SourceRange) {
        self.stages = stages
        self.range = range
    }
}

/// One stage: an operator and where it was written (for diagnostics).
public struct Stage: Sendable, Hashable {
    public var op: Operator
    public var range: SourceRange
    public init(op: Operator, range: SourceRange) {
        self.op = op
        self.range = range
    }
}

/// A literal or regex argument, with where it was written.
public enum PatternArgument: Sendable, Hashable {
    case literal(String)
    /// `/.../` or `/.../i`.
    case regex(String, caseInsensitive: Bool)
}

public enum MapFunction: String, Sendable, Hashable, CaseIterable {
    case words, lower, upper, trim
}

public enum ReduceFunction: String, Sendable, Hashable, CaseIterable {
    case count, sum, min, max, avg, collect, distinct, ndistinct
}

public enum SortKey: String, Sendable, Hashable, CaseIterable {
    case key, value, record
}

/// Every operator of the language. See grammar/mrsh.ebnf.
public enum Operator: Sendable, Hashable {
    /// `read GLOB...`: lines of every matching file, in file name order.
    case read(paths: [String])
    /// A `let` name used as the first stage.
    case binding(name: String)
    /// `grep [not] PATTERN`.
    case grep(PatternArgument, negated: Bool)
    /// `map words|lower|upper|trim`.
    case map(MapFunction)
    /// `split [SEP] [as NAME, ...]`: whitespace when SEP is absent; SEP a string or a regex.
    case split(PatternArgument?, names: [FieldName])
    /// `pick N [, N ...]`: 1-based field numbers.
    case pick([Int])
    /// `extract /REGEX/`: every match (its first group if any) as a record.
    case extract(PatternArgument)
    /// `tag file`: append the input file's name as a field.
    case tagFile
    /// `reduce FUNCTION`.
    case reduce(ReduceFunction)
    /// `sort [by key|value|record] [asc|desc]`.
    case sort(by: SortKey, descending: Bool)
    /// `take N`.
    case take(Int)
    /// `distinct`: unique records.
    case distinct
    /// `count`: the number of records.
    case count
    /// `write PATH [overwrite]`.
    case write(path: String, overwrite: Bool)
    /// `where E`.
    case `where`(Expression)
    /// `select E [as NAME], ...`.
    case select([NamedExpression])
    /// `reduce AGG [as NAME], ... [by E [as NAME], ...]`, every form but a lone bare `reduce FUNCTION`.
    /// `keys` nil: no `by` (the group is field 1).
    case aggregate([AggregateCall], keys: [NamedExpression]?)
    /// `sort by E [asc|desc], ...` (not `sort by key|value|record`).
    case sortBy([SortExpression])
    /// `top N by E [asc|desc], ... [per E, ...]`.
    case top(Int, by: [SortExpression], per: [Expression])
    /// `parse csv [header] [as NAME, ...]`.
    case parseCSV(header: Bool, names: [FieldName])
    /// `parse json "PATH" [as NAME], ...`.
    case parseJSON([JSONPath])
    /// `stream "COMMAND"`: the records through a `/bin/sh -c COMMAND` per task.
    case stream(command: String)
    /// `join [left] NAME on L [= R] [using shuffle|broadcast]`: R is L when absent.
    case join(JoinClause)
    /// `union NAME [, NAME ...]`: the records of the bindings after those flowing in.
    case union([BindingReference])
    /// `counter "NAME" [where E]`: counts the records (for which E is true), passing all on unchanged.
    case counter(name: String, condition: Expression?)
}

/// A binding named inside a stage (`join users ...`, `union a, b`), with where it was written.
public struct BindingReference: Sendable, Hashable {
    public var name: String
    public var range: SourceRange
    public init(_ name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

/// `join [left] NAME on L [= R] [using shuffle|broadcast]`.
public struct JoinClause: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case inner, left }
    public enum Strategy: String, Sendable, Hashable, CaseIterable { case shuffle, broadcast }
    public var kind: Kind
    public var binding: BindingReference
    /// The left side's key expression.
    public var leftKey: Expression
    /// The right side's, nil when it is the same expression (`on id`).
    public var rightKey: Expression?
    /// What `using` forces; nil lets mrsh choose by the right side's size.
    public var strategy: Strategy?
    public init(kind: Kind, binding: BindingReference, leftKey: Expression, rightKey: Expression?, strategy: Strategy?) {
        self.kind = kind
        self.binding = binding
        self.leftKey = leftKey
        self.rightKey = rightKey
        self.strategy = strategy
    }
}

// MARK: - Fields and expressions

/// A name given to a field (`as NAME`, `split ... as a, b`), with where it was written.
public struct FieldName: Sendable, Hashable {
    public var name: String
    public var range: SourceRange
    public init(_ name: String, range: SourceRange) {
        self.name = name
        self.range = range
    }
}

/// An expression as written: names are not resolved yet (the planner does that, knowing the fields).
public struct Expression: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        /// `$N`; 0 is the whole record.
        case field(Int)
        /// A field name (or `count`, `sum(bytes)`... when a `reduce` named a field so: see `call`).
        case name(String)
        case integer(Int64)
        case decimal(Double)
        case string(String)
        case boolean(Bool)
        /// `-E`, `not E`.
        case unary(UnaryOperator, Expression)
        case binary(BinaryOperator, Expression, Expression)
        /// `E ~ /re/`, `E !~ /re/`.
        case matches(Expression, regex: String, caseInsensitive: Bool, negated: Bool)
        /// `E in (A, ...)`, `E not in (A, ...)`.
        case isIn(Expression, [Expression], negated: Bool)
        /// `NAME(ARG, ...)`: a function, or (in later stages) the field a `reduce` named `sum(bytes)`.
        case call(String, nameRange: SourceRange, [Expression])
    }
    public var kind: Kind
    public var range: SourceRange
    public init(_ kind: Kind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

public enum UnaryOperator: String, Sendable, Hashable {
    case negate = "-", not
}

public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and, or
}

/// `E [as NAME]`, in `select` and `reduce ... by`.
public struct NamedExpression: Sendable, Hashable {
    public var expression: Expression
    public var alias: FieldName?
    public init(_ expression: Expression, alias: FieldName? = nil) {
        self.expression = expression
        self.alias = alias
    }
}

/// One aggregate of `reduce AGG [as NAME], ...`: `count`, `sum(E)`, or a bare `sum` (the value, as
/// `reduce sum` has always meant).
public struct AggregateCall: Sendable, Hashable {
    public var function: ReduceFunction
    public var argument: Expression?
    public var alias: FieldName?
    public var range: SourceRange
    public init(function: ReduceFunction, argument: Expression?, alias: FieldName?, range: SourceRange) {
        self.function = function
        self.argument = argument
        self.alias = alias
        self.range = range
    }
}

/// One key of `sort by E [asc|desc]` or `top N by E [asc|desc]`; `descending` nil when not written.
public struct SortExpression: Sendable, Hashable {
    public var expression: Expression
    public var descending: Bool?
    public init(_ expression: Expression, descending: Bool?) {
        self.expression = expression
        self.descending = descending
    }
}

/// One path of `parse json "a.b" [as NAME], ...`.
public struct JSONPath: Sendable, Hashable {
    public var path: String
    public var range: SourceRange
    public var alias: FieldName?
    public init(path: String, range: SourceRange, alias: FieldName?) {
        self.path = path
        self.range = range
        self.alias = alias
    }
}

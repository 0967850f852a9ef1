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
    /// `split [SEP]`: whitespace when absent; SEP a string or a regex.
    case split(PatternArgument?)
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
}

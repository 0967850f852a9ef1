/// An expression over one record's fields, as the planner hands it to the data path: every field name is
/// already resolved to a field number, every type already checked (see MrshLanguage's checker), so the
/// data path only compiles and evaluates it.
///
/// Semantics (the data path's `ExpressionProgram` implements them; docs/LANGUAGE.md states them for users):
/// - A record is TAB-separated fields; `$0` (`.field(0)`) is the whole record, `$1` the first field. A field
///   past the last is *missing*: its text is empty, and a comparison with a missing operand is false.
/// - Values are numbers (integers while they fit `Int64`, decimals as IEEE doubles), byte strings and
///   booleans. A field is a string that also counts as a number when all of its bytes parse as one (awk's
///   "numeric string").
/// - `==`, `!=`, `<` ... compare numerically when both sides are numbers, otherwise the bytes of their text.
/// - Arithmetic needs numbers: a string that is not one, or a division by zero, makes the record bad.
///   Integer `+ - * %` are exact and turn decimal on overflow; `/` divides as decimals.
/// - `and`, `or`, `not` and `if` short-circuit.
/// - Details the data path settled: a string constant is never a numeric string (`$1 == "10"` compares
///   text), while computed strings (`trim($1)`, `substr(...)`) are, like fields; `~`, `!~`, `in` and
///   `not in` with a missing operand are false, like `==` and `!=` (`not in` is `!=` for every item);
///   functions read a missing field as empty text, and arithmetic, `int`, `num` and `substr`'s numbers make
///   the record bad on it; a non-boolean where a boolean is due (`where`, `and`, `if`) counts as false.
public indirect enum FieldExpression: Codable, Sendable, Hashable {
    /// `$N`, or a name resolved to its field number; 0 is the whole record.
    case field(Int)
    case integer(Int64)
    case decimal(Double)
    case string(String)
    case boolean(Bool)
    /// `-E`.
    case negate(FieldExpression)
    /// `not E`.
    case not(FieldExpression)
    case arithmetic(ArithmeticOperator, FieldExpression, FieldExpression)
    case comparison(ComparisonOperator, FieldExpression, FieldExpression)
    case and(FieldExpression, FieldExpression)
    case or(FieldExpression, FieldExpression)
    /// `E ~ /re/` (`!~` when negated): an unanchored POSIX extended regex search in E's text.
    case matches(FieldExpression, regex: String, caseInsensitive: Bool, negated: Bool)
    /// `E in (A, B, ...)` (`not in` when negated): E equals one of them, by the rule of `==`.
    case isIn(FieldExpression, [FieldExpression], negated: Bool)
    case call(ScalarFunction, [FieldExpression])
}

public enum ArithmeticOperator: String, Codable, Sendable, Hashable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
}

public enum ComparisonOperator: String, Codable, Sendable, Hashable, CaseIterable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// The functions an expression may call. Text functions count Unicode scalars (an invalid byte counts as
/// one); text comparisons are by bytes and case-sensitive.
public enum ScalarFunction: String, Codable, Sendable, Hashable, CaseIterable {
    /// `len(s)`: the number of Unicode scalars of s's text.
    case len
    /// `lower(s)`, `upper(s)`: ASCII and Unicode case mapping, as `map lower|upper`.
    case lower, upper
    /// `trim(s)`: without leading and trailing white space.
    case trim
    /// `substr(s, start, len)`: `len` scalars from the 1-based `start` (clamped to the text).
    case substr
    /// `contains(s, t)`, `startswith(s, t)`, `endswith(s, t)`: booleans, by bytes.
    case contains, startswith, endswith
    /// `int(x)`: the number x truncated toward zero (a non-number is a bad record).
    case int
    /// `num(x)`: x as a number (a non-number is a bad record).
    case num
    /// `if(cond, a, b)`: a when cond is true, else b.
    case `if`

    /// How many arguments the function takes.
    public var arity: Int {
        switch self {
        case .len, .lower, .upper, .trim, .int, .num: return 1
        case .contains, .startswith, .endswith: return 2
        case .substr, .if: return 3
        }
    }
}

/// One key of `sort by E [asc|desc], ...` or `top N by ...`.
public struct SortKeyPart: Codable, Sendable, Hashable {
    public var expression: FieldExpression
    public var descending: Bool
    public init(_ expression: FieldExpression, descending: Bool) {
        self.expression = expression
        self.descending = descending
    }
}

/// `reduce AGG, ... by KEY, ...`: the shape of its map output records and what it computes.
///
/// The map side projects every record to `k1 TAB ... kK TAB v1 TAB ... vV` (K = `keyFields`, then the value
/// fields the aggregations read); the reduce output is `k1 TAB ... kK TAB r1 TAB ... rA`, one result per
/// aggregation in order, each part sorted by the bytes of the key fields (joined by TAB).
public struct GroupBy: Codable, Sendable, Hashable {
    public var keyFields: Int
    public var aggregations: [Aggregation]
    public init(keyFields: Int, aggregations: [Aggregation]) {
        self.keyFields = keyFields
        self.aggregations = aggregations
    }

    /// Whether every aggregation folds into a fixed-size partial, so map tasks can combine.
    public var isCombinable: Bool { aggregations.allSatisfy { $0.function.isCombinable } }
}

public struct Aggregation: Codable, Sendable, Hashable {
    public var function: AggregateFunction
    /// The 0-based index, among the value fields after the keys, of the field it reads (nil for `count`).
    public var input: Int?
    public init(_ function: AggregateFunction, input: Int?) {
        self.function = function
        self.input = input
    }
}

/// What one aggregation of `reduce ... by` computes. A missing value is skipped; a value that is not a
/// number is a bad record for the numeric ones.
public enum AggregateFunction: String, Codable, Sendable, Hashable, CaseIterable {
    case count, sum, min, max, avg, collect, distinct, ndistinct

    /// count, sum, min, max and avg fold into a fixed-size partial (the combiner's).
    public var isCombinable: Bool {
        switch self {
        case .count, .sum, .min, .max, .avg: return true
        case .collect, .distinct, .ndistinct: return false
        }
    }
}

/// How a source's bytes become records.
public enum RecordFormat: Codable, Sendable, Equatable, Hashable {
    /// One record per line.
    case lines
    /// RFC 4180 CSV: a record may span lines inside a quoted field, so splits start at record starts; with
    /// `skipHeader`, every file's first record is dropped. Records reach the map operators as their CSV text
    /// (a `.parseCSV` op turns them into fields).
    case csv(skipHeader: Bool)
}

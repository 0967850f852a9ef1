import MrshPlan

/// One value on the evaluator's stack. A trivial (POD) enum: pushing and popping it costs no retain or
/// release. Text is never owned: it is a slice of the record, of a program's constants, or a range of the
/// evaluator's scratch arena (by offset, since the arena may move when it grows).
enum ExpressionValue {
    /// A field past the last one: its text is empty, every comparison with it is false.
    case missing
    case boolean(Bool)
    case integer(Int64)
    case decimal(Double)
    /// Bytes of the record or of a constant. `literal`: a string constant of the expression, which is
    /// never a numeric string in a comparison (awk's rule: `$1 == "10"` compares text).
    case text(UnsafeRawBufferPointer, literal: Bool)
    /// `count` bytes at offset `start` of the evaluator's arena (results of lower, upper, numbers' text).
    case scratch(start: Int, count: Int)
}

/// One instruction of a compiled expression: postfix, over the evaluator's value stack. A POD enum; jump
/// targets are instruction indices. `site` indexes `ExpressionProgram.sites`, the text of the
/// subexpression a bad-record message names.
enum ExpressionInstruction {
    /// Pushes field N (0: the whole record).
    case field(Int)
    /// Pushes `constants[i]`.
    case constant(Int)
    case negate(site: Int)
    /// Pops a value, pushes `true` when it was not `true` (a non-boolean counts as false).
    case not
    case arithmetic(ArithmeticOperator, site: Int)
    case compare(ComparisonOperator)
    /// `a and b`: pops a; unless it is `true`, pushes `false` and jumps to the target (after b).
    case andJump(Int)
    /// `a or b`: pops a; when it is `true`, pushes `true` and jumps to the target (after b).
    case orJump(Int)
    /// Replaces the top with a boolean: `true` stays, anything else becomes `false`.
    case toBoolean
    /// Pops a value; jumps unless it is `true` (`if`).
    case jumpUnlessTrue(Int)
    case jump(Int)
    /// Pops a value; pushes whether `regexes[i]` matches its text (negated: does not). Missing: false.
    case matches(regex: Int, negated: Bool)
    /// Pops `count` items and then E; pushes `E == item` for some item (negated: `E != item` for all).
    case isIn(count: Int, negated: Bool)
    case len, lower, upper, trim, contains, startswith, endswith
    case substr(site: Int)
    case int(site: Int)
    case num(site: Int)
}

/// A `FieldExpression` compiled once per task: flat postfix code with jumps for the short-circuiting
/// operators, constants (string bytes in one buffer this object owns) and POSIX regexes in side tables.
/// Evaluated per record by an `ExpressionEvaluator`, which owns all per-record state.
final class ExpressionProgram {
    let code: ContiguousArray<ExpressionInstruction>
    let constants: ContiguousArray<ExpressionValue>
    /// The compiled regexes, unretained (`regexOwners` keeps them alive as long as `self`): no retain and
    /// release per `~`.
    let regexes: ContiguousArray<Unmanaged<PosixRegex>>
    private let regexOwners: [PosixRegex]
    /// The text of each subexpression that can make a record bad (for the message).
    let sites: [String]
    /// The highest field number used (0 when only `$0` or none).
    let maxField: Int
    /// The most values on the stack at once.
    let maxDepth: Int
    /// The bytes of the string constants (`constants` point into it).
    private let constantBytes: UnsafeMutableRawBufferPointer

    /// - Throws: `OperatorError` for a bad regex, a negative field number or a call with the wrong
    ///   number of arguments (the planner's checker makes none of these).
    init(_ expression: FieldExpression, context: String) throws {
        var builder = ProgramBuilder()
        try builder.emit(expression, context: context)
        var bytes = 0
        for s in builder.strings { bytes += s.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 8)
        var offset = 0
        var resolved = ContiguousArray<ExpressionValue>()
        for constant in builder.constants {
            switch constant {
            case .value(let value):
                resolved.append(value)
            case .string(let index):
                let string = builder.strings[index]
                // storage has at least one byte, so its base address is non-nil.
                let start = storage.baseAddress.unsafelyUnwrapped + offset
                string.withUnsafeBytes { source in
                    if let from = source.baseAddress { start.copyMemory(from: from, byteCount: source.count) }
                }
                resolved.append(.text(UnsafeRawBufferPointer(start: start, count: string.count), literal: true))
                offset += string.count
            }
        }
        constantBytes = storage
        code = builder.code
        constants = resolved
        regexOwners = builder.regexes
        regexes = ContiguousArray(builder.regexes.map { Unmanaged.passUnretained($0) })
        sites = builder.sites
        maxField = builder.maxField
        maxDepth = max(builder.maxDepth, 1)
    }

    deinit {
        constantBytes.deallocate()
    }
}

/// Compiles a `FieldExpression` tree into postfix code, tracking the stack depth.
private struct ProgramBuilder {
    var code = ContiguousArray<ExpressionInstruction>()
    enum Constant {
        case value(ExpressionValue)
        /// The index of a string constant's bytes in `strings`.
        case string(Int)
    }
    var constants: [Constant] = []
    var strings: [[UInt8]] = []
    var regexes: [PosixRegex] = []
    var sites: [String] = []
    var maxField = 0
    var depth = 0
    var maxDepth = 0

    mutating func push(_ n: Int = 1) {
        depth += n
        maxDepth = max(maxDepth, depth)
    }

    mutating func site(_ e: FieldExpression) -> Int {
        sites.append(ExpressionSiteText.short(e))
        return sites.count - 1
    }

    mutating func constant(_ v: Constant) {
        constants.append(v)
        code.append(.constant(constants.count - 1))
        push()
    }

    mutating func emit(_ e: FieldExpression, context: String) throws {
        switch e {
        case .field(let n):
            guard n >= 0 else { throw OperatorError("\(context): field numbers start at 0, got \(n)") }
            maxField = max(maxField, n)
            code.append(.field(n))
            push()
        case .integer(let v): constant(.value(.integer(v)))
        case .decimal(let v): constant(.value(.decimal(v)))
        case .boolean(let v): constant(.value(.boolean(v)))
        case .string(let s):
            strings.append(Array(s.utf8))
            constant(.string(strings.count - 1))
        case .negate(let a):
            try emit(a, context: context)
            code.append(.negate(site: site(e)))
        case .not(let a):
            try emit(a, context: context)
            code.append(.not)
        case .arithmetic(let op, let a, let b):
            try emit(a, context: context)
            try emit(b, context: context)
            code.append(.arithmetic(op, site: site(e)))
            depth -= 1
        case .comparison(let op, let a, let b):
            try emit(a, context: context)
            try emit(b, context: context)
            code.append(.compare(op))
            depth -= 1
        case .and(let a, let b), .or(let a, let b):
            try emit(a, context: context)
            let jumpAt = code.count
            code.append(.jump(0))  // patched below
            depth -= 1
            try emit(b, context: context)
            code.append(.toBoolean)
            if case .and = e { code[jumpAt] = .andJump(code.count) } else { code[jumpAt] = .orJump(code.count) }
        case .matches(let a, let regex, let caseInsensitive, let negated):
            try emit(a, context: context)
            regexes.append(try PosixRegex(regex, caseInsensitive: caseInsensitive, positions: false, context: context))
            code.append(.matches(regex: regexes.count - 1, negated: negated))
        case .isIn(let a, let items, let negated):
            try emit(a, context: context)
            for item in items { try emit(item, context: context) }
            code.append(.isIn(count: items.count, negated: negated))
            depth -= items.count
        case .call(let function, let arguments):
            guard arguments.count == function.arity else {
                throw OperatorError(
                    "\(context): \(function.rawValue) takes \(function.arity) arguments, got \(arguments.count)")
            }
            if function == .if {
                try emit(arguments[0], context: context)
                let skipThen = code.count
                code.append(.jump(0))
                depth -= 1
                try emit(arguments[1], context: context)
                let skipElse = code.count
                code.append(.jump(0))
                depth -= 1
                code[skipThen] = .jumpUnlessTrue(code.count)
                try emit(arguments[2], context: context)
                code[skipElse] = .jump(code.count)
                return
            }
            for argument in arguments { try emit(argument, context: context) }
            depth -= arguments.count - 1
            switch function {
            case .len: code.append(.len)
            case .lower: code.append(.lower)
            case .upper: code.append(.upper)
            case .trim: code.append(.trim)
            case .contains: code.append(.contains)
            case .startswith: code.append(.startswith)
            case .endswith: code.append(.endswith)
            case .substr: code.append(.substr(site: site(e)))
            case .int: code.append(.int(site: site(e)))
            case .num: code.append(.num(site: site(e)))
            case .if: break  // handled above
            }
        }
    }
}

/// A compact rendering of an expression for bad-record messages (`$3 + 1`), cut after 60 characters.
enum ExpressionSiteText {
    static func short(_ e: FieldExpression) -> String {
        let text = render(e, nested: false)
        return text.count > 60 ? String(text.prefix(60)) + "..." : text
    }

    private static func render(_ e: FieldExpression, nested: Bool) -> String {
        func wrap(_ s: String) -> String { nested ? "(\(s))" : s }
        switch e {
        case .field(let n): return "$\(n)"
        case .integer(let v): return String(v)
        case .decimal(let v): return NumericValue.format(v)
        case .string(let s): return "\"\(s)\""
        case .boolean(let v): return v ? "true" : "false"
        case .negate(let a): return "-" + render(a, nested: true)
        case .not(let a): return wrap("not " + render(a, nested: true))
        case .arithmetic(let op, let a, let b):
            return wrap("\(render(a, nested: true)) \(op.rawValue) \(render(b, nested: true))")
        case .comparison(let op, let a, let b):
            return wrap("\(render(a, nested: true)) \(op.rawValue) \(render(b, nested: true))")
        case .and(let a, let b): return wrap("\(render(a, nested: true)) and \(render(b, nested: true))")
        case .or(let a, let b): return wrap("\(render(a, nested: true)) or \(render(b, nested: true))")
        case .matches(let a, let regex, let i, let negated):
            return wrap("\(render(a, nested: true)) \(negated ? "!~" : "~") /\(regex)/\(i ? "i" : "")")
        case .isIn(let a, let items, let negated):
            let list = items.map { render($0, nested: false) }.joined(separator: ", ")
            return wrap("\(render(a, nested: true)) \(negated ? "not in" : "in") (\(list))")
        case .call(let f, let arguments):
            return "\(f.rawValue)(\(arguments.map { render($0, nested: false) }.joined(separator: ", ")))"
        }
    }
}

import MrshPlan

/// What the expression stages of one pipeline do with a record they cannot evaluate (a bad record), by the
/// task's `BadRecordPolicy`: count it (`skip`), or keep the first reason for `RecordPipeline` to throw
/// (`fail`). Either way the record produces no output. Shared by the stages of one `PipelineStorage`.
final class BadRecordLog {
    let policy: BadRecordPolicy
    private(set) var skipped: Int64 = 0
    private var failure: String?

    init(_ policy: BadRecordPolicy) {
        self.policy = policy
    }

    /// Records that `evaluator` failed on `program` (builds the message only under `fail`).
    func report(_ evaluator: ExpressionEvaluator, _ program: ExpressionProgram) {
        if policy == .skip {
            skipped += 1
        } else if failure == nil {
            failure = evaluator.failureMessage(program)
        }
    }

    /// For a bad record of another stage (`parse json`): under `skip`, counts it and returns true; under
    /// `fail`, returns false, and the stage then reports its message with `fail`.
    @inline(__always)
    func skip() -> Bool {
        guard policy == .skip else { return false }
        skipped += 1
        return true
    }

    /// Under `fail`: a bad record's message (the first one is kept).
    func fail(_ message: String) {
        if failure == nil { failure = message }
    }

    /// The pending failure's message, once.
    @inline(__always)
    func takeFailure() -> String? {
        guard failure != nil else { return nil }
        defer { failure = nil }
        return failure
    }
}

/// `where E` (`.filter`): passes the record on when E is `true` (a non-boolean counts as false).
final class FilterStage: RecordStage {
    private let program: ExpressionProgram
    private let evaluator: ExpressionEvaluator
    private let log: BadRecordLog

    init(_ expression: FieldExpression, log: BadRecordLog) throws {
        program = try ExpressionProgram(expression, context: "where")
        evaluator = ExpressionEvaluator([program])
        self.log = log
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        evaluator.begin(record)
        guard let value = evaluator.evaluate(program) else {
            log.report(evaluator, program)
            return
        }
        if case .boolean(true) = value { try next(record) }
    }
}

/// `select E, ...` (`.project`): the record made of each expression's text, joined by TAB (booleans as
/// `true`/`false`, numbers as `NumericValue.format`, missing as empty), in the stage's own buffer.
final class ProjectStage: RecordStage {
    private let programs: [ExpressionProgram]
    private let evaluator: ExpressionEvaluator
    private let log: BadRecordLog
    private let out = ScratchBuffer()

    init(_ expressions: [FieldExpression], log: BadRecordLog) throws {
        programs = try expressions.map { try ExpressionProgram($0, context: "select") }
        evaluator = ExpressionEvaluator(programs)
        self.log = log
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        evaluator.begin(record)
        out.removeAll()
        for index in programs.indices {
            let program = programs[index]
            if index > 0 { out.append(0x09) }
            guard let value = evaluator.evaluate(program) else {
                log.report(evaluator, program)
                return
            }
            switch value {
            case .integer(let i): NumberText.appendInteger(i, to: out)
            case .decimal(let d): NumberText.append(.decimal(d), to: out)
            default: out.append(evaluator.text(value))
            }
        }
        try next(out.bytes)
    }
}

/// `.prependSortKey`: `KEY TAB record`, KEY the `SortKeyEncoding` of the key parts' values (a value counts
/// as a number by the rule of comparisons; booleans are their text).
final class SortKeyStage: RecordStage {
    private let programs: [ExpressionProgram]
    private let descending: [Bool]
    private let evaluator: ExpressionEvaluator
    private let log: BadRecordLog
    private let out = ScratchBuffer()

    /// After this many parts a TAB ends the first key field (`prependGroupAndSortKey`'s G); nil: one key.
    private let fieldBreak: Int?

    init(_ parts: [SortKeyPart], fieldBreak: Int? = nil, log: BadRecordLog) throws {
        self.fieldBreak = fieldBreak
        programs = try parts.map { try ExpressionProgram($0.expression, context: "sort") }
        descending = parts.map(\.descending)
        evaluator = ExpressionEvaluator(programs)
        self.log = log
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        evaluator.begin(record)
        out.removeAll()
        for index in programs.indices {
            if index == fieldBreak { out.append(0x09) }
            let program = programs[index]
            guard let value = evaluator.evaluate(program) else {
                log.report(evaluator, program)
                return
            }
            let desc = descending[index]
            if case .missing = value {
                SortKeyEncoding.appendMissing(descending: desc, to: out)
            } else if let number = evaluator.number(value, comparing: true) {
                SortKeyEncoding.appendNumber(number, descending: desc, to: out)
            } else {
                SortKeyEncoding.appendText(evaluator.text(value), descending: desc, to: out)
            }
        }
        out.append(0x09)
        out.append(record)
        try next(out.bytes)
    }
}

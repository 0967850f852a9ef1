#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

    /// When every expression is a plain field `$N` (N >= 1): those field numbers, copied without the
    /// evaluator (the same text: a field's bytes, missing as empty).
    private let plainFields: UnsafeMutableBufferPointer<Int>?
    /// With `plainFields`: the start and end offsets of fields 1...maxPlainField of the current record.
    private let fieldBounds: UnsafeMutablePointer<Int>
    private let maxPlainField: Int

    /// The largest field number when every expression is a plain field `$N` with N >= 1, else nil.
    static func plainFieldLimit(_ expressions: [FieldExpression]) -> Int? {
        var limit = 0
        for expression in expressions {
            guard case .field(let n) = expression, n >= 1 else { return nil }
            limit = max(limit, n)
        }
        return limit > 0 ? limit : nil
    }

    init(_ expressions: [FieldExpression], log: BadRecordLog) throws {
        programs = try expressions.map { try ExpressionProgram($0, context: "select") }
        evaluator = ExpressionEvaluator(programs)
        self.log = log
        if let limit = Self.plainFieldLimit(expressions) {
            let fields = UnsafeMutableBufferPointer<Int>.allocate(capacity: expressions.count)
            for (i, expression) in expressions.enumerated() {
                if case .field(let n) = expression { fields[i] = n }
            }
            plainFields = fields
            maxPlainField = limit
        } else {
            plainFields = nil
            maxPlainField = 0
        }
        fieldBounds = UnsafeMutablePointer<Int>.allocate(capacity: 2 * max(maxPlainField, 1))
    }

    deinit {
        plainFields?.deallocate()
        fieldBounds.deallocate()
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        if let fields = plainFields {
            try processPlain(record, fields, next: next)
            return
        }
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

    /// The plain-field projection: fields located by the evaluator's rule (split at TAB; an empty record
    /// has one empty field), each copied as it is, a field past the last one as empty.
    @inline(__always)
    private func processPlain(
        _ record: UnsafeRawBufferPointer, _ fields: UnsafeMutableBufferPointer<Int>,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        out.removeAll()
        let bounds = fieldBounds
        let n = record.count
        var count = 0
        if let base = record.baseAddress {
            var start = 0
            while count < maxPlainField {
                bounds[2 * count] = start
                if let tab = memchr(base + start, 0x09, n - start) {
                    let end = UnsafeRawPointer(tab) - base
                    bounds[2 * count + 1] = end
                    count += 1
                    start = end + 1
                } else {
                    bounds[2 * count + 1] = n
                    count += 1
                    break
                }
            }
        } else {
            bounds[0] = 0
            bounds[1] = 0
            count = 1
        }
        for index in 0..<fields.count {
            if index > 0 { out.append(0x09) }
            let k = fields[index]
            if k <= count {
                let start = bounds[2 * (k - 1)]
                out.append(UnsafeRawBufferPointer(rebasing: record[start..<bounds[2 * (k - 1) + 1]]))
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

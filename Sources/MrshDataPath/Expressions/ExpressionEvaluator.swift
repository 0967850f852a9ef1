#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMrshShims
import MrshPlan

/// Why a record is bad, as plain data (the message is only built when a task fails on it).
enum ExpressionFailure {
    /// An operand of arithmetic, `int`, `num` or `substr` is not a number (its value is kept).
    case notNumber(ExpressionValue, site: Int)
    /// An operand of arithmetic is a missing field.
    case missing(site: Int)
    case divisionByZero(site: Int)
}

/// Evaluates compiled expressions over one record at a time, with no allocation per record in steady state.
///
/// Per record (`begin`): the record's TAB field offsets are located lazily, on the first field access and
/// only up to the highest field any program uses; the scratch arena (computed strings: lower, upper, the
/// text of numbers) is emptied. The value stack is preallocated for the deepest program. One evaluator
/// serves all the programs of one stage; use it from one thread.
final class ExpressionEvaluator {
    private let stack: UnsafeMutablePointer<ExpressionValue>
    private let stackCapacity: Int
    private let maxField: Int
    /// Offsets of fields 1...fieldCapacity; grown (doubling, up to maxField) by records with more fields,
    /// so a large field number costs memory only when records have that many fields.
    private var fieldStarts: UnsafeMutablePointer<Int>
    private var fieldEnds: UnsafeMutablePointer<Int>
    private var fieldCapacity: Int
    /// Fields located for the current record; -1 until the first field access.
    private var fieldCount = -1
    private var record = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Computed strings of the current record. `.scratch` values refer to it by offset.
    let arena = ScratchBuffer(capacity: 1024)
    /// A copy of an arena string that is the input of an arena write (the arena may move as it grows).
    private let staging = ScratchBuffer(capacity: 256)
    private let lowerMapper = CaseMapper(upper: false)
    private let upperMapper = CaseMapper(upper: true)
    /// "truefalse": the text of booleans, at a stable address.
    private let booleanText: UnsafeMutableRawBufferPointer
    /// Set when `evaluate` returns nil.
    private(set) var failure: ExpressionFailure?

    init(_ programs: [ExpressionProgram]) {
        stackCapacity = programs.map(\.maxDepth).max() ?? 1
        stack = UnsafeMutablePointer<ExpressionValue>.allocate(capacity: stackCapacity)
        stack.initialize(repeating: .missing, count: stackCapacity)
        maxField = programs.map(\.maxField).max() ?? 0
        fieldCapacity = max(min(maxField, 64), 1)
        fieldStarts = UnsafeMutablePointer<Int>.allocate(capacity: fieldCapacity)
        fieldEnds = UnsafeMutablePointer<Int>.allocate(capacity: fieldCapacity)
        booleanText = UnsafeMutableRawBufferPointer.allocate(byteCount: 9, alignment: 1)
        booleanText.copyBytes(from: "truefalse".utf8)
    }

    deinit {
        stack.deinitialize(count: stackCapacity)
        stack.deallocate()
        fieldStarts.deallocate()
        fieldEnds.deallocate()
        booleanText.deallocate()
    }

    /// Starts a record: every value of the previous one becomes invalid.
    @inline(__always)
    func begin(_ record: UnsafeRawBufferPointer) {
        self.record = record
        fieldCount = -1
        arena.removeAll()
    }

    // MARK: Fields

    /// Locates fields 1...maxField of the record (PickStage's rule: an empty record has one empty field).
    private func locateFields() {
        let n = record.count
        var count = 0
        var start = 0
        guard let base = record.baseAddress else {
            if maxField > 0 {
                fieldStarts[0] = 0
                fieldEnds[0] = 0
                count = 1
            }
            fieldCount = count
            return
        }
        while count < maxField {
            if count == fieldCapacity { growFields() }
            fieldStarts[count] = start
            if let tab = memchr(base + start, 0x09, n - start) {
                let end = UnsafeRawPointer(tab) - base
                fieldEnds[count] = end
                count += 1
                start = end + 1
            } else {
                fieldEnds[count] = n
                count += 1
                break
            }
        }
        fieldCount = count
    }

    private func growFields() {
        let capacity = min(fieldCapacity * 2, maxField)
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
        let ends = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
        starts.update(from: fieldStarts, count: fieldCapacity)
        ends.update(from: fieldEnds, count: fieldCapacity)
        fieldStarts.deallocate()
        fieldEnds.deallocate()
        fieldStarts = starts
        fieldEnds = ends
        fieldCapacity = capacity
    }

    @inline(__always)
    private func field(_ n: Int) -> ExpressionValue {
        if n == 0 { return .text(record, literal: false) }
        if fieldCount < 0 { locateFields() }
        guard n <= fieldCount else { return .missing }
        let slice = UnsafeRawBufferPointer(rebasing: record[fieldStarts[n - 1]..<fieldEnds[n - 1]])
        return .text(slice, literal: false)
    }

    // MARK: Text and numbers

    /// The value's text as a value whose bytes need no further arena write: numbers are written to the
    /// arena here. Resolve it with `bytes` only after the last arena write of the instruction.
    @inline(__always)
    private func textValue(_ v: ExpressionValue) -> ExpressionValue {
        switch v {
        case .text, .scratch: return v
        case .missing: return .text(UnsafeRawBufferPointer(start: nil, count: 0), literal: false)
        case .boolean(let b):
            let all = UnsafeRawBufferPointer(booleanText)
            return .text(UnsafeRawBufferPointer(rebasing: b ? all[0..<4] : all[4..<9]), literal: false)
        case .integer(let i):
            let start = arena.count
            NumberText.append(.integer(i), to: arena)
            return .scratch(start: start, count: arena.count - start)
        case .decimal(let d):
            let start = arena.count
            NumberText.append(.decimal(d), to: arena)
            return .scratch(start: start, count: arena.count - start)
        }
    }

    /// The bytes of a value made by `textValue` (valid until the next arena write).
    @inline(__always)
    private func bytes(_ v: ExpressionValue) -> UnsafeRawBufferPointer {
        switch v {
        case .text(let b, _): return b
        case .scratch(let start, let count): return UnsafeRawBufferPointer(start: arena.base + start, count: count)
        default: return UnsafeRawBufferPointer(start: nil, count: 0)
        }
    }

    /// The text of any value: for `project`, and for the sort-key encoder (valid until the next arena write).
    func text(_ v: ExpressionValue) -> UnsafeRawBufferPointer {
        bytes(textValue(v))
    }

    /// The value as a number. `comparing`: for a comparison or a sort key, where a string literal is
    /// text even when it parses; arithmetic and `num` parse every string.
    @inline(__always)
    func number(_ v: ExpressionValue, comparing: Bool) -> NumericValue? {
        switch v {
        case .integer(let i): return .integer(i)
        case .decimal(let d): return .decimal(d)
        case .text(let b, let literal): return literal && comparing ? nil : NumericValue.parse(b)
        case .scratch: return NumericValue.parse(bytes(v))
        case .missing, .boolean: return nil
        }
    }

    // MARK: Evaluation

    /// Runs `program` on the current record: its value, or nil when the record is bad (`failure` says why).
    func evaluate(_ program: ExpressionProgram) -> ExpressionValue? {
        // Raw views of the program's tables: no bounds checks or retains per instruction.
        program.code.withUnsafeBufferPointer { code in
            program.constants.withUnsafeBufferPointer { constants in
                run(program, code, constants)
            }
        }
    }

    private func run(
        _ program: ExpressionProgram, _ code: UnsafeBufferPointer<ExpressionInstruction>,
        _ constants: UnsafeBufferPointer<ExpressionValue>
    ) -> ExpressionValue? {
        var sp = 0  // values on the stack
        var pc = 0
        let stack = self.stack
        let end = code.count
        while pc < end {
            let instruction = code[pc]
            pc += 1
            switch instruction {
            case .field(let n):
                // The compiler's depth count bounds sp; checked in debug builds.
                assert(sp < stackCapacity, "expression stack overflow")
                stack[sp] = field(n)
                sp += 1
            case .constant(let i):
                assert(sp < stackCapacity, "expression stack overflow")
                stack[sp] = constants[i]
                sp += 1
            case .negate(let site):
                guard let n = numericOperand(stack[sp - 1], site: site) else { return nil }
                switch n {
                case .integer(let i):
                    let (r, overflow) = Int64(0).subtractingReportingOverflow(i)
                    stack[sp - 1] = overflow ? .decimal(-Double(i)) : .integer(r)
                case .decimal(let d): stack[sp - 1] = .decimal(-d)
                }
            case .not:
                stack[sp - 1] = .boolean(!isTrue(stack[sp - 1]))
            case .arithmetic(let op, let site):
                guard let r = arithmetic(op, stack[sp - 2], stack[sp - 1], site: site) else { return nil }
                sp -= 1
                stack[sp - 1] = r
            case .compare(let op):
                let r = compare(op, stack[sp - 2], stack[sp - 1])
                sp -= 1
                stack[sp - 1] = .boolean(r)
            case .andJump(let target):
                if !isTrue(stack[sp - 1]) {
                    stack[sp - 1] = .boolean(false)
                    pc = target
                } else {
                    sp -= 1
                }
            case .orJump(let target):
                if isTrue(stack[sp - 1]) {
                    stack[sp - 1] = .boolean(true)
                    pc = target
                } else {
                    sp -= 1
                }
            case .toBoolean:
                stack[sp - 1] = .boolean(isTrue(stack[sp - 1]))
            case .jumpUnlessTrue(let target):
                sp -= 1
                if !isTrue(stack[sp]) { pc = target }
            case .jump(let target):
                pc = target
            case .matches(let regex, let negated):
                let v = stack[sp - 1]
                if case .missing = v {
                    stack[sp - 1] = .boolean(false)
                } else {
                    let bytes = text(v)
                    let found = program.regexes[regex]._withUnsafeGuaranteedRef { $0.matches(bytes) }
                    stack[sp - 1] = .boolean(found != negated)
                }
            case .isIn(let count, let negated):
                let e = stack[sp - count - 1]
                var result = negated
                for k in 0..<count {
                    let item = stack[sp - count + k]
                    if negated {
                        if !compare(.notEqual, e, item) { result = false; break }
                    } else if compare(.equal, e, item) {
                        result = true
                        break
                    }
                }
                if case .missing = e { result = false }
                sp -= count
                stack[sp - 1] = .boolean(result)
            case .len:
                stack[sp - 1] = .integer(Int64(Self.scalarCount(text(stack[sp - 1]))))
            case .lower:
                stack[sp - 1] = mapCase(stack[sp - 1], upper: false)
            case .upper:
                stack[sp - 1] = mapCase(stack[sp - 1], upper: true)
            case .trim:
                stack[sp - 1] = trim(stack[sp - 1])
            case .contains, .startswith, .endswith:
                let s = textValue(stack[sp - 2])
                let t = textValue(stack[sp - 1])
                let r = Self.find(instruction, in: bytes(s), bytes(t))
                sp -= 1
                stack[sp - 1] = .boolean(r)
            case .substr(let site):
                guard let r = substring(stack[sp - 3], stack[sp - 2], stack[sp - 1], site: site) else { return nil }
                sp -= 2
                stack[sp - 1] = r
            case .int(let site):
                guard let n = numericOperand(stack[sp - 1], site: site) else { return nil }
                stack[sp - 1] = Self.truncated(n)
            case .num(let site):
                guard let n = numericOperand(stack[sp - 1], site: site) else { return nil }
                switch n {
                case .integer(let i): stack[sp - 1] = .integer(i)
                case .decimal(let d): stack[sp - 1] = .decimal(d)
                }
            }
        }
        return sp > 0 ? stack[sp - 1] : .missing
    }

    @inline(__always)
    private func isTrue(_ v: ExpressionValue) -> Bool {
        if case .boolean(true) = v { return true }
        return false
    }

    /// A number for arithmetic, or nil with `failure` set.
    @inline(__always)
    private func numericOperand(_ v: ExpressionValue, site: Int) -> NumericValue? {
        if case .missing = v {
            failure = .missing(site: site)
            return nil
        }
        guard let n = number(v, comparing: false) else {
            failure = .notNumber(v, site: site)
            return nil
        }
        return n
    }

    private func arithmetic(
        _ op: ArithmeticOperator, _ a: ExpressionValue, _ b: ExpressionValue, site: Int
    ) -> ExpressionValue? {
        guard let x = numericOperand(a, site: site), let y = numericOperand(b, site: site) else { return nil }
        if case .integer(let i) = x, case .integer(let j) = y {
            switch op {
            case .add:
                let (r, o) = i.addingReportingOverflow(j)
                return o ? .decimal(Double(i) + Double(j)) : .integer(r)
            case .subtract:
                let (r, o) = i.subtractingReportingOverflow(j)
                return o ? .decimal(Double(i) - Double(j)) : .integer(r)
            case .multiply:
                let (r, o) = i.multipliedReportingOverflow(by: j)
                return o ? .decimal(Double(i) * Double(j)) : .integer(r)
            case .divide:
                if j == 0 { failure = .divisionByZero(site: site); return nil }
                return .decimal(Double(i) / Double(j))
            case .remainder:
                if j == 0 { failure = .divisionByZero(site: site); return nil }
                // Int64.min % -1 overflows in Swift; its remainder is 0.
                let (r, o) = i.remainderReportingOverflow(dividingBy: j)
                return .integer(o ? 0 : r)
            }
        }
        let p = x.doubleValue
        let q = y.doubleValue
        switch op {
        case .add: return .decimal(p + q)
        case .subtract: return .decimal(p - q)
        case .multiply: return .decimal(p * q)
        case .divide:
            if q == 0 { failure = .divisionByZero(site: site); return nil }
            return .decimal(p / q)
        case .remainder:
            if q == 0 { failure = .divisionByZero(site: site); return nil }
            return .decimal(fmod(p, q))
        }
    }

    /// `==` ... `>=`: false when a side is missing; numeric when both sides are numbers (or numeric
    /// strings), else the bytes of their texts.
    func compare(_ op: ComparisonOperator, _ a: ExpressionValue, _ b: ExpressionValue) -> Bool {
        if case .missing = a { return false }
        if case .missing = b { return false }
        let order: Int
        if let x = number(a, comparing: true), let y = number(b, comparing: true) {
            guard let c = Self.compareNumbers(x, y) else { return op == .notEqual }  // NaN
            order = c
        } else {
            let s = textValue(a)
            let t = textValue(b)
            order = Bytes.compare(bytes(s), bytes(t))
        }
        switch op {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        }
    }

    /// Exact numeric order (an Int64 against a double too); nil when one is NaN.
    static func compareNumbers(_ x: NumericValue, _ y: NumericValue) -> Int? {
        switch (x, y) {
        case (.integer(let i), .integer(let j)): return i < j ? -1 : (i > j ? 1 : 0)
        case (.decimal(let p), .decimal(let q)):
            if p.isNaN || q.isNaN { return nil }
            return p < q ? -1 : (p > q ? 1 : 0)
        case (.integer(let i), .decimal(let d)):
            return compareIntegerToDouble(i, d)
        case (.decimal(let d), .integer(let i)):
            return compareIntegerToDouble(i, d).map { -$0 }
        }
    }

    static func compareIntegerToDouble(_ i: Int64, _ d: Double) -> Int? {
        if d.isNaN { return nil }
        if d >= 9.223372036854775808e18 { return -1 }
        if d < -9.223372036854775808e18 { return 1 }
        let t = d.rounded(.towardZero)  // in [-2^63, 2^63): fits Int64 exactly
        let ti = Int64(t)
        if i < ti { return -1 }
        if i > ti { return 1 }
        return d > t ? -1 : (d < t ? 1 : 0)
    }

    /// `int(x)`: toward zero; a decimal becomes an integer when it fits.
    static func truncated(_ n: NumericValue) -> ExpressionValue {
        switch n {
        case .integer(let i): return .integer(i)
        case .decimal(let d):
            let t = d.rounded(.towardZero)
            if t >= -9.223372036854775808e18 && t < 9.223372036854775808e18 { return .integer(Int64(t)) }
            return .decimal(t)
        }
    }

    // MARK: Functions

    /// Unicode scalars of UTF-8 text; an invalid byte counts as one.
    static func scalarCount(_ b: UnsafeRawBufferPointer) -> Int {
        guard let raw = b.baseAddress else { return 0 }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let n = b.count
        var i = 0
        var count = 0
        while i < n {
            if p[i] < 0x80 {
                i += 1
            } else {
                let length = UTF8Scalar.decode(p, i, n).length
                i += max(length, 1)
            }
            count += 1
        }
        return count
    }

    /// The byte offset of scalar `k` (0-based) from `from`, or n when the text has fewer.
    private static func advance(_ p: UnsafePointer<UInt8>, _ n: Int, from: Int, scalars k: Int64) -> Int {
        var i = from
        var left = k
        while left > 0 && i < n {
            i += p[i] < 0x80 ? 1 : max(UTF8Scalar.decode(p, i, n).length, 1)
            left -= 1
        }
        return i
    }

    private func mapCase(_ v: ExpressionValue, upper: Bool) -> ExpressionValue {
        var source = textValue(v)
        if case .scratch = source {
            // The arena may move while it is written: map from a copy.
            staging.removeAll()
            staging.append(bytes(source))
            source = .text(staging.bytes, literal: false)
        }
        let start = arena.count
        (upper ? upperMapper : lowerMapper).append(bytes(source), to: arena)
        return .scratch(start: start, count: arena.count - start)
    }

    private func trim(_ v: ExpressionValue) -> ExpressionValue {
        let t = textValue(v)
        let b = bytes(t)
        var start = 0
        var end = b.count
        while start < end && TrimStage.isBlank(b[start]) { start += 1 }
        while end > start && TrimStage.isBlank(b[end - 1]) { end -= 1 }
        return slice(t, start, end)
    }

    /// Bytes start..<end of a text value, as a value of the same kind (never a literal: a result).
    private func slice(_ t: ExpressionValue, _ start: Int, _ end: Int) -> ExpressionValue {
        switch t {
        case .scratch(let s, _): return .scratch(start: s + start, count: end - start)
        default:
            return .text(UnsafeRawBufferPointer(rebasing: bytes(t)[start..<end]), literal: false)
        }
    }

    /// `substr(s, start, len)`: scalars start...start+len-1 (1-based) of s, clamped to the text like
    /// awk's: a start below 1 counts from 1 but still uses up length (`substr("hello", 0, 2)` is "h").
    private func substring(
        _ s: ExpressionValue, _ startValue: ExpressionValue, _ lengthValue: ExpressionValue, site: Int
    ) -> ExpressionValue? {
        guard let startNumber = numericOperand(startValue, site: site),
            let lengthNumber = numericOperand(lengthValue, site: site)
        else { return nil }
        let start = Self.clampedInteger(startNumber)
        let length = Self.clampedInteger(lengthNumber)
        let t = textValue(s)
        let b = bytes(t)
        guard length > 0, let raw = b.baseAddress else { return slice(t, 0, 0) }
        // Last position (inclusive), saturating.
        let (sum, overflow) = start.addingReportingOverflow(length - 1)
        let last = overflow ? Int64.max : sum
        let first = max(start, 1)
        guard last >= first else { return slice(t, 0, 0) }
        let p = raw.assumingMemoryBound(to: UInt8.self)
        let from = Self.advance(p, b.count, from: 0, scalars: first - 1)
        let to = Self.advance(p, b.count, from: from, scalars: last - first + 1)
        return slice(t, from, to)
    }

    /// A number as an Int64 for `substr`: truncated, saturated (NaN: 0).
    private static func clampedInteger(_ n: NumericValue) -> Int64 {
        switch n {
        case .integer(let i): return i
        case .decimal(let d):
            if d.isNaN { return 0 }
            if d >= 9.223372036854775808e18 { return .max }
            if d <= -9.223372036854775808e18 { return .min }
            return Int64(d.rounded(.towardZero))
        }
    }

    private static func find(
        _ instruction: ExpressionInstruction, in s: UnsafeRawBufferPointer, _ t: UnsafeRawBufferPointer
    ) -> Bool {
        if t.count == 0 { return true }
        if t.count > s.count { return false }
        guard let sBase = s.baseAddress, let tBase = t.baseAddress else { return false }
        switch instruction {
        case .startswith: return memcmp(sBase, tBase, t.count) == 0
        case .endswith: return memcmp(sBase + (s.count - t.count), tBase, t.count) == 0
        default: return mrsh_memmem(sBase, s.count, tBase, t.count) != nil
        }
    }

    // MARK: Messages

    /// The reason the last `evaluate` returned nil, for the task's failure ("'abc' is not a number in
    /// $3 + 1"). Builds strings: only call it when a task fails.
    func failureMessage(_ program: ExpressionProgram) -> String {
        guard let failure else { return "bad record" }
        switch failure {
        case .notNumber(let v, let site):
            return "'\(MapCollector.excerpt(text(v)))' is not a number in \(program.sites[site])"
        case .missing(let site):
            return "a missing field is not a number in \(program.sites[site])"
        case .divisionByZero(let site):
            return "division by zero in \(program.sites[site])"
        }
    }
}

/// Numbers' text without a String: integers plainly, decimals as `NumericValue.format` writes them.
enum NumberText {
    static func append(_ n: NumericValue, to out: ScratchBuffer) {
        switch n {
        case .integer(let i): appendInteger(i, to: out)
        case .decimal(let d):
            if d == d.rounded(), abs(d) < 9.0e15 {
                appendInteger(Int64(d), to: out)
            } else {
                let p = out.reserve(32)
                let n = mrsh_format_double(d, p.assumingMemoryBound(to: CChar.self))
                out.commit(Int(n))
            }
        }
    }

    static func appendInteger(_ value: Int64, to out: ScratchBuffer) {
        let p = out.reserve(20).assumingMemoryBound(to: UInt8.self)
        var magnitude = value.magnitude
        var n = 0
        if value < 0 {
            p[0] = 0x2D
            n = 1
        }
        let digitsStart = n
        repeat {
            p[n] = 0x30 + UInt8(magnitude % 10)
            magnitude /= 10
            n += 1
        } while magnitude > 0
        // Reverse the digits in place.
        var i = digitsStart
        var j = n - 1
        while i < j {
            let t = p[i]
            p[i] = p[j]
            p[j] = t
            i += 1
            j -= 1
        }
        out.commit(n)
    }
}

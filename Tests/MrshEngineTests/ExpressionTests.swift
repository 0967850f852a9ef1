import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

// Expression stages (`where`, `select`, sort keys) through `RecordPipeline`, against hand-computed tables
// and an independent tree-walking oracle (below), plus the sort-key encoding.

private typealias E = FieldExpression

private func f(_ n: Int) -> E { .field(n) }
private func s(_ t: String) -> E { .string(t) }
private func i(_ v: Int64) -> E { .integer(v) }
private func cmp(_ op: ComparisonOperator, _ a: E, _ b: E) -> E { .comparison(op, a, b) }
private func ar(_ op: ArithmeticOperator, _ a: E, _ b: E) -> E { .arithmetic(op, a, b) }
private func call(_ fn: ScalarFunction, _ args: E...) -> E { .call(fn, args) }

/// The outputs and the bad-record message (nil when none) of `ops` on one record.
private func run(_ ops: [RecordOp], _ record: [UInt8], policy: BadRecordPolicy = .fail) throws -> (outputs: [[UInt8]], bad: String?, skipped: Int64) {
    var pipeline = try RecordPipeline(ops, badRecords: policy)
    var outputs: [[UInt8]] = []
    var bad: String?
    do {
        try record.withUnsafeBytes { rec in
            try pipeline.processChecked(rec, file: Bytes.empty) { outputs.append(Array($0)) }
        }
    } catch let error as EngineError {
        bad = error.message
    }
    return (outputs, bad, pipeline.skippedRecords)
}

/// `select e` on a record given as TAB-joined text: the one output as text, or "BAD: message".
private func select(_ e: E, _ record: String) throws -> String {
    let r = try run([.project([e])], Array(record.utf8))
    if let bad = r.bad { return "BAD: \(bad)" }
    #expect(r.outputs.count == 1)
    return String(decoding: r.outputs.first ?? [], as: UTF8.self)
}

/// Whether `where e` keeps the record ("BAD" on a bad record).
private func keeps(_ e: E, _ record: String) throws -> String {
    let r = try run([.filter(e)], Array(record.utf8))
    if r.bad != nil { return "BAD" }
    return r.outputs.isEmpty ? "drop" : "keep"
}

@Suite struct ExpressionSemanticsTests {
    @Test func fieldsMissingAndEmpty() throws {
        #expect(try select(f(0), "a\tb") == "a\tb")
        #expect(try select(f(1), "a\tb") == "a")
        #expect(try select(f(2), "a\tb") == "b")
        #expect(try select(f(3), "a\tb") == "")
        #expect(try select(f(1), "") == "")
        #expect(try select(f(2), "a\t") == "")
        #expect(try keeps(cmp(.equal, f(2), s("")), "a\t") == "keep")  // empty, not missing
        #expect(try keeps(cmp(.equal, f(3), s("")), "a\t") == "drop")  // missing
        #expect(try keeps(cmp(.notEqual, f(3), s("x")), "a") == "drop")  // != with missing is false too
        #expect(try keeps(.isIn(f(3), [s(""), s("x")], negated: false), "a") == "drop")
        #expect(try keeps(.isIn(f(3), [s("y")], negated: true), "a") == "drop")
        #expect(try keeps(.isIn(f(1), [s("y")], negated: true), "a") == "keep")
        #expect(try keeps(.not(cmp(.equal, f(3), i(1))), "a") == "keep")
        #expect(try select(call(.len, f(5)), "a") == "0")
        #expect(try select(call(.upper, f(5)), "a") == "")
        #expect(try select(ar(.add, f(5), i(1)), "a") == "BAD: a missing field is not a number in $5 + 1")
        // Far fields: the offsets grow with the records (past the first 64).
        let wide = (1...300).map(String.init).joined(separator: "\t")
        var pipeline = try RecordPipeline([.project([f(200), f(1), f(100_000)])])
        #expect(collect(&pipeline, Array("x".utf8)) == [Array("\tx\t".utf8)])
        #expect(collect(&pipeline, Array(wide.utf8)) == [Array("200\t1\t".utf8)])
        #expect(collect(&pipeline, Array(wide.utf8)) == [Array("200\t1\t".utf8)])
    }

    @Test func comparisonRules() throws {
        let table: [(E, String, String)] = [
            (cmp(.equal, f(1), i(10)), "10", "keep"),
            (cmp(.equal, f(1), i(10)), "10.0", "keep"),  // numeric string
            (cmp(.equal, f(1), i(10)), "1e1", "keep"),
            (cmp(.equal, f(1), s("10")), "10.0", "drop"),  // a literal is text: bytes
            (cmp(.less, f(1), f(2)), "9\t10", "keep"),  // both numeric: numerically
            (cmp(.less, f(1), f(2)), "9\t10x", "drop"),  // "9" > "10x" by bytes
            (cmp(.less, f(1), f(2)), "abc\tabd", "keep"),
            (cmp(.less, f(1), f(2)), "ab\tabc", "keep"),  // shorter prefix first
            (cmp(.greaterOrEqual, f(1), i(-3)), "-3", "keep"),
            (cmp(.equal, f(1), .decimal(0.5)), ".5", "keep"),
            (cmp(.equal, f(1), i(9_007_199_254_740_993)), "9007199254740993", "keep"),
            (cmp(.equal, f(1), .decimal(9_007_199_254_740_992)), "9007199254740993", "drop"),  // exact
            (cmp(.less, .decimal(9_007_199_254_740_992), f(1)), "9007199254740993", "keep"),
            (cmp(.equal, f(1), .boolean(true)), "true", "keep"),  // text of a boolean
            (cmp(.equal, f(1), s("é")), "é", "keep"),
            // An empty field is text, not a number: "" < "5" by bytes (a shorter prefix first).
            (cmp(.less, f(1), i(5)), "", "keep"),
        ]
        for (e, record, expected) in table {
            #expect(try keeps(e, record) == expected, "\(e) on \(record)")
        }
    }

    @Test func arithmetic() throws {
        #expect(try select(ar(.add, f(1), i(1)), "41") == "42")
        #expect(try select(ar(.add, f(1), i(1)), " 41") == "BAD: ' 41' is not a number in $1 + 1")
        #expect(try select(ar(.multiply, f(1), f(2)), "2.5\t4") == "10")
        #expect(try select(ar(.divide, f(1), f(2)), "7\t2") == "3.5")
        #expect(try select(ar(.divide, f(1), f(2)), "6\t3") == "2")
        #expect(try select(ar(.remainder, f(1), f(2)), "-7\t3") == "-1")  // sign of the dividend
        #expect(try select(ar(.remainder, f(1), f(2)), "7\t-3") == "1")
        #expect(try select(ar(.remainder, f(1), f(2)), "7.5\t2") == "1.5")
        #expect(try select(ar(.remainder, f(1), f(2)), "-9223372036854775808\t-1") == "0")
        #expect(try select(ar(.divide, f(1), f(2)), "1\t0") == "BAD: division by zero in $1 / $2")
        #expect(try select(ar(.remainder, f(1), f(2)), "1\t0") == "BAD: division by zero in $1 % $2")
        #expect(try select(ar(.divide, f(1), f(2)), "1\t0.0") == "BAD: division by zero in $1 / $2")
        #expect(try select(ar(.add, f(1), i(1)), "9223372036854775807") == "9.223372036854776e+18")
        #expect(try select(ar(.subtract, f(1), i(1)), "-9223372036854775808") == "-9.223372036854776e+18")
        #expect(try select(ar(.multiply, f(1), f(1)), "4294967296") == "1.8446744073709552e+19")
        #expect(try select(.negate(f(1)), "-9223372036854775808") == "9.223372036854776e+18")
        #expect(try select(.negate(f(1)), "5") == "-5")
        #expect(try select(ar(.add, f(1), .decimal(0.1)), "0.2") == "0.30000000000000004")
        #expect(try select(ar(.add, f(1), i(1)), "abc") == "BAD: 'abc' is not a number in $1 + 1")
        #expect(try select(ar(.add, ar(.multiply, f(3), i(2)), i(1)), "a\tb\tx") == "BAD: 'x' is not a number in $3 * 2")
        let long = String(repeating: "z", count: 100)
        #expect(try select(ar(.add, f(1), i(1)), long) == "BAD: '\(String(repeating: "z", count: 60))...' is not a number in $1 + 1")
    }

    @Test func shortCircuit() throws {
        // `$1 != "" and $9 > 1`: $9 is never read when $1 is empty; a bad right side only matters when reached.
        let guarded = E.and(cmp(.notEqual, f(1), s("")), cmp(.greater, ar(.divide, i(10), f(2)), i(1)))
        #expect(try keeps(guarded, "\t0") == "drop")
        #expect(try keeps(guarded, "x\t0") == "BAD")
        #expect(try keeps(guarded, "x\t2") == "keep")
        let either = E.or(cmp(.equal, f(1), s("a")), cmp(.greater, ar(.divide, i(10), f(2)), i(1)))
        #expect(try keeps(either, "a\t0") == "keep")
        #expect(try keeps(either, "b\t0") == "BAD")
        #expect(try keeps(either, "b\t20") == "drop")
        let choice = call(.if, cmp(.equal, f(1), s("d")), ar(.divide, i(1), f(2)), s("none"))
        #expect(try select(choice, "x\t0") == "none")
        #expect(try select(choice, "d\t4") == "0.25")
        #expect(try select(choice, "d\t0") == "BAD: division by zero in 1 / $2")
        #expect(try select(.and(.boolean(true), .boolean(true)), "") == "true")
        #expect(try select(.or(.boolean(false), .boolean(false)), "") == "false")
        // A non-boolean condition counts as false.
        #expect(try keeps(f(1), "true") == "drop")
        #expect(try keeps(.boolean(true), "x") == "keep")
    }

    @Test func functions() throws {
        #expect(try select(call(.len, f(1)), "héllo😀") == "6")
        #expect(try select(call(.len, f(0)), "a\tb") == "3")
        var invalid = Array("a".utf8) + [0xFF, 0xC3] + Array("b".utf8)
        var r = try run([.project([call(.len, f(1))])], invalid)
        #expect(r.outputs == [Array("4".utf8)])
        #expect(try select(call(.lower, f(1)), "ÀB Ω") == "àb ω")
        #expect(try select(call(.upper, f(1)), "straße") == "STRASSE")
        #expect(try select(call(.upper, call(.lower, call(.upper, f(1)))), "aé") == "AÉ")
        #expect(try select(call(.trim, f(1)), "  x y \r") == "x y")
        #expect(try select(call(.substr, f(1), i(2), i(3)), "hello") == "ell")
        #expect(try select(call(.substr, f(1), i(0), i(2)), "hello") == "h")
        #expect(try select(call(.substr, f(1), i(-5), i(100)), "hello") == "hello")
        #expect(try select(call(.substr, f(1), i(4), i(100)), "hello") == "lo")
        #expect(try select(call(.substr, f(1), i(9), i(1)), "hello") == "")
        #expect(try select(call(.substr, f(1), i(2), i(-1)), "hello") == "")
        #expect(try select(call(.substr, f(1), i(2), i(2)), "é😀xy") == "😀x")
        #expect(try select(call(.substr, f(1), i(2), i(Int64.max)), "abc") == "bc")
        #expect(try select(call(.substr, f(1), f(2), i(1)), "abc\tz") == "BAD: 'z' is not a number in substr($1, $2, 1)")
        #expect(try select(call(.contains, f(1), s("ll")), "hello") == "true")
        #expect(try select(call(.contains, f(1), s("")), "") == "true")
        #expect(try select(call(.startswith, f(1), s("he")), "hello") == "true")
        #expect(try select(call(.endswith, f(1), s("he")), "hello") == "false")
        #expect(try select(call(.endswith, f(1), s("lo")), "hello") == "true")
        #expect(try select(call(.contains, f(1), s("x")), "hello") == "false")
        #expect(try select(call(.int, f(1)), "-3.9") == "-3")
        #expect(try select(call(.int, f(1)), "1e300") == "1e+300")
        #expect(try select(call(.int, f(1)), "42") == "42")
        #expect(try select(call(.int, f(1)), "x") == "BAD: 'x' is not a number in int($1)")
        #expect(try select(call(.num, f(1)), "007") == "7")
        #expect(try select(call(.num, f(1)), "") == "BAD: '' is not a number in num($1)")
        #expect(try select(call(.len, ar(.multiply, f(1), i(1))), "12345") == "5")  // a number's text
        #expect(try select(call(.trim, .boolean(true)), "") == "true")
        // A computed string that parses counts as a number in comparisons.
        #expect(try keeps(cmp(.equal, call(.trim, f(1)), i(5)), " 5.0 ") == "keep")
        invalid = [0xFF, 0x41]
        r = try run([.project([call(.lower, f(1))])], invalid)
        #expect(r.outputs == [[0xFF, 0x61]])
    }

    @Test func regexAndIn() throws {
        #expect(try keeps(.matches(f(1), regex: "^a.c$", caseInsensitive: false, negated: false), "abc") == "keep")
        #expect(try keeps(.matches(f(1), regex: "^a.c$", caseInsensitive: true, negated: false), "ABC") == "keep")
        #expect(try keeps(.matches(f(1), regex: "b", caseInsensitive: false, negated: true), "abc") == "drop")
        #expect(try keeps(.matches(f(2), regex: "^$", caseInsensitive: false, negated: false), "abc") == "drop")  // missing
        #expect(try keeps(.matches(f(2), regex: "^$", caseInsensitive: false, negated: true), "abc") == "drop")
        #expect(try keeps(.isIn(f(1), [i(1), i(2), s("x")], negated: false), "2.0") == "keep")
        #expect(try keeps(.isIn(f(1), [i(1), i(2), s("x")], negated: false), "x") == "keep")
        #expect(try keeps(.isIn(f(1), [i(1), i(2), s("x")], negated: true), "3") == "keep")
        #expect(try keeps(.isIn(f(1), [i(1), f(5)], negated: true), "3") == "drop")  // != missing is false
        #expect(throws: OperatorError.self) {
            _ = try RecordPipeline([.filter(.matches(f(1), regex: "a(", caseInsensitive: false, negated: false))])
        }
        #expect(throws: OperatorError.self) { _ = try RecordPipeline([.project([.call(.len, [])])]) }
    }

    @Test func projectJoinsByTab() throws {
        let r = try run([.project([f(2), ar(.add, f(1), i(1)), cmp(.less, f(1), i(3)), f(9), s("k")])], Array("1\tb".utf8))
        #expect(r.outputs == [Array("b\t2\ttrue\t\tk".utf8)])
        // Fused with other stages, several records in a row (scratch reuse).
        var pipeline = try RecordPipeline([.split(.literal(",")), .filter(cmp(.greater, f(2), i(1))), .project([f(1), call(.upper, f(3))])])
        #expect(collect(&pipeline, Array("a,2,x".utf8)) == [Array("a\tX".utf8)])
        #expect(collect(&pipeline, Array("b,0,y".utf8)) == [])
        #expect(collect(&pipeline, Array("c,5,zz".utf8)) == [Array("c\tZZ".utf8)])
    }

    @Test func badRecordPolicies() throws {
        let ops: [RecordOp] = [.filter(cmp(.greater, ar(.add, f(2), i(0)), i(1)))]
        var skipping = try RecordPipeline(ops, badRecords: .skip)
        var kept = 0
        for record in ["a\t2", "b\tx", "c\t5", "d", "e\t0"] {
            try Array(record.utf8).withUnsafeBytes { rec in
                try skipping.processChecked(rec, file: Bytes.empty) { _ in kept += 1 }
            }
        }
        #expect(kept == 2)
        #expect(skipping.skippedRecords == 2)
        let failing = try run(ops, Array("b\tx".utf8))
        #expect(failing.bad == "'x' is not a number in $2 + 0")
        #expect(failing.outputs.isEmpty)
        // `process` (which only rethrows) drops it.
        var pipeline = try RecordPipeline(ops)
        var outputs = 0
        Array("b\tx".utf8).withUnsafeBytes { rec in pipeline.process(rec, file: Bytes.empty) { _ in outputs += 1 } }
        #expect(outputs == 0)
    }

    @Test func decimalTextMatchesNumericValueFormat() {
        var rng = SplitMix64(seed: 7)
        let out = ScratchBuffer()
        var values: [Double] = [0.1, 1e-5, 1e-4, 1.5e-7, 5e-324, 1.7976931348623157e308, 9.5e15, 9e15, 1e16,
            9007199254740992, 9007199254740994, 18014398509481984, 123456789012345.6, -2.5, .infinity, -.infinity, .nan,
            -0.0, 0.0, 100, 1e21, 1e22, 123e-20, 0.001, 0.000123]
        for _ in 0..<3000 {
            values.append(Double(bitPattern: rng.next()))
            values.append(Double(Int64(bitPattern: rng.next()) >> Int.random(in: 0..<63, using: &rng)) / 1000)
            values.append(Double.random(in: -1e6...1e6, using: &rng))
            values.append(Double(bitPattern: rng.next() >> 12))  // subnormal
            values.append(Double(Int.random(in: -100_000_000...100_000_000, using: &rng)) / 100)
            values.append(Double(Int.random(in: -1_000_000_000_000...1_000_000_000_000, using: &rng)) / 1_000_000)
            values.append(Double(Int.random(in: -99999...99999, using: &rng)) / [10, 100, 1000, 1024, 3, 7][Int.random(in: 0..<6, using: &rng)])
        }
        for v in values {
            out.removeAll()
            NumberText.append(.decimal(v), to: out)
            let mine = String(decoding: out.bytes, as: UTF8.self)
            let expected = NumericValue.format(v)
            #expect(mine == expected, "bits \(v.bitPattern)")
        }
    }
}

// MARK: The oracle

/// An independent tree-walking evaluator over Swift arrays and Strings (slow and plain), the semantics of
/// `FieldExpression`'s doc comments.
private enum Oracle {
    indirect enum V: Equatable {
        case missing, bool(Bool), int(Int64), dec(Double), str([UInt8], literal: Bool)
    }
    struct Bad: Error {}

    static func fields(_ record: [UInt8]) -> [[UInt8]] {
        record.split(separator: 0x09, omittingEmptySubsequences: false).map(Array.init)
    }

    static func text(_ v: V) -> [UInt8] {
        switch v {
        case .missing: return []
        case .bool(let b): return Array((b ? "true" : "false").utf8)
        case .int(let i): return Array(String(i).utf8)
        case .dec(let d): return Array((d.isNaN ? "nan" : NumericValue.format(d)).utf8)
        case .str(let b, _): return b
        }
    }

    static func number(_ v: V, comparing: Bool) -> NumericValue? {
        switch v {
        case .int(let i): return .integer(i)
        case .dec(let d): return .decimal(d)
        case .str(let b, let literal): return literal && comparing ? nil : NumericValue.parse(b)
        default: return nil
        }
    }

    /// Exact comparison through Swift's own mixed-type comparisons on exactly representable values.
    static func order(_ x: NumericValue, _ y: NumericValue) -> Int? {
        switch (x, y) {
        case (.integer(let a), .integer(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.decimal(let a), .decimal(let b)):
            if a.isNaN || b.isNaN { return nil }
            return a == b ? 0 : (a < b ? -1 : 1)
        case (.integer(let a), .decimal(let b)):
            if b.isNaN { return nil }
            if let exact = Double(exactly: a) { return exact == b ? 0 : (exact < b ? -1 : 1) }
            // |a| > 2^53: b is then compared after truncation (b's fraction cannot matter unless equal parts).
            if b >= 9.223372036854775808e18 { return -1 }
            if b < -9.223372036854775808e18 { return 1 }
            let t = Int64(b.rounded(.towardZero))
            if a != t { return a < t ? -1 : 1 }
            return b == b.rounded(.towardZero) ? 0 : (b > 0 ? -1 : 1)
        case (.decimal, .integer): return order(y, x).map { -$0 }
        }
    }

    static func compare(_ op: ComparisonOperator, _ a: V, _ b: V) -> Bool {
        if a == .missing || b == .missing { return false }
        var c: Int
        if let x = number(a, comparing: true), let y = number(b, comparing: true) {
            guard let o = order(x, y) else { return op == .notEqual }
            c = o
        } else {
            let s = text(a)
            let t = text(b)
            c = s.lexicographicallyPrecedes(t) ? -1 : (s == t ? 0 : 1)
        }
        switch op {
        case .equal: return c == 0
        case .notEqual: return c != 0
        case .less: return c < 0
        case .lessOrEqual: return c <= 0
        case .greater: return c > 0
        case .greaterOrEqual: return c >= 0
        }
    }

    static func scalars(_ b: [UInt8]) -> [[UInt8]] {
        // Decode with the standard library; an invalid byte is one scalar.
        var out: [[UInt8]] = []
        var i = 0
        while i < b.count {
            var length = 1
            if b[i] >= 0x80 {
                for n in [2, 3, 4] where i + n <= b.count {
                    var it = b[i..<(i + n)].makeIterator()
                    var decoder = UTF8()
                    if case .scalarValue = decoder.decode(&it), it.next() == nil {
                        length = n
                        break
                    }
                }
            }
            out.append(Array(b[i..<(i + length)]))
            i += length
        }
        return out
    }

    static func eval(_ e: FieldExpression, _ record: [UInt8]) throws -> V {
        let fs = fields(record)
        func go(_ e: FieldExpression) throws -> V {
            switch e {
            case .field(0): return .str(record, literal: false)
            case .field(let n): return n <= fs.count ? .str(fs[n - 1], literal: false) : .missing
            case .integer(let v): return .int(v)
            case .decimal(let v): return .dec(v)
            case .string(let t): return .str(Array(t.utf8), literal: true)
            case .boolean(let b): return .bool(b)
            case .negate(let a):
                guard let n = number(try go(a), comparing: false) else { throw Bad() }
                if case .integer(let v) = n { return v == .min ? .dec(-Double(v)) : .int(-v) }
                return .dec(-n.doubleValue)
            case .not(let a): return .bool(try go(a) != .bool(true))
            case .arithmetic(let op, let a, let b):
                guard let x = number(try go(a), comparing: false), let y = number(try go(b), comparing: false) else { throw Bad() }
                if case .integer(let p) = x, case .integer(let q) = y, op != .divide {
                    switch op {
                    case .add: let r = p.addingReportingOverflow(q); return r.overflow ? .dec(Double(p) + Double(q)) : .int(r.partialValue)
                    case .subtract: let r = p.subtractingReportingOverflow(q); return r.overflow ? .dec(Double(p) - Double(q)) : .int(r.partialValue)
                    case .multiply: let r = p.multipliedReportingOverflow(by: q); return r.overflow ? .dec(Double(p) * Double(q)) : .int(r.partialValue)
                    default:
                        if q == 0 { throw Bad() }
                        if q == -1 { return .int(0) }
                        return .int(p % q)
                    }
                }
                let p = x.doubleValue, q = y.doubleValue
                switch op {
                case .add: return .dec(p + q)
                case .subtract: return .dec(p - q)
                case .multiply: return .dec(p * q)
                case .divide: if q == 0 { throw Bad() }; return .dec(p / q)
                case .remainder: if q == 0 { throw Bad() }; return .dec(p.truncatingRemainder(dividingBy: q))
                }
            case .comparison(let op, let a, let b): return .bool(compare(op, try go(a), try go(b)))
            case .and(let a, let b): return try go(a) == .bool(true) ? .bool(try go(b) == .bool(true)) : .bool(false)
            case .or(let a, let b): return try go(a) == .bool(true) ? .bool(true) : .bool(try go(b) == .bool(true))
            case .matches: fatalError("not in the oracle")
            case .isIn(let a, let items, let negated):
                let x = try go(a)
                let vs = try items.map(go)
                if x == .missing { return .bool(false) }
                return .bool(negated ? vs.allSatisfy { compare(.notEqual, x, $0) } : vs.contains { compare(.equal, x, $0) })
            case .call(let fn, let args):
                if fn == .if { return try go(args[0]) == .bool(true) ? try go(args[1]) : try go(args[2]) }
                let vs = try args.map(go)
                switch fn {
                case .len: return .int(Int64(scalars(text(vs[0])).count))
                case .lower, .upper:
                    // The random data is valid UTF-8: the standard library's full mapping.
                    let t = String(decoding: text(vs[0]), as: UTF8.self)
                    return .str(Array((fn == .upper ? t.uppercased() : t.lowercased()).utf8), literal: false)
                case .trim:
                    var t = text(vs[0])[...]
                    while let c = t.first, c == 0x20 || c == 0x09 || c == 0x0D { t = t.dropFirst() }
                    while let c = t.last, c == 0x20 || c == 0x09 || c == 0x0D { t = t.dropLast() }
                    return .str(Array(t), literal: false)
                case .substr:
                    guard let st = number(vs[1], comparing: false), let ln = number(vs[2], comparing: false) else { throw Bad() }
                    let chars = scalars(text(vs[0]))
                    // The texts are short: clamping to +-1e12 changes no result.
                    func clamp(_ d: Double) -> Int { d.isNaN ? 0 : Int(max(min(d.rounded(.towardZero), 1e12), -1e12)) }
                    let start = clamp(st.doubleValue), length = clamp(ln.doubleValue)
                    let from = max(start, 1), to = min(start + length - 1, chars.count)
                    return .str(to >= from ? Array(chars[(from - 1)..<to].joined()) : [], literal: false)
                case .contains, .startswith, .endswith:
                    let a = text(vs[0]), b = text(vs[1])
                    if b.isEmpty { return .bool(true) }
                    if fn == .startswith { return .bool(a.starts(with: b)) }
                    if fn == .endswith { return .bool(a.reversed().starts(with: b.reversed())) }
                    return .bool(a.count >= b.count && (0...(a.count - b.count)).contains { Array(a[$0..<($0 + b.count)]) == b })
                case .int:
                    guard let n = number(vs[0], comparing: false) else { throw Bad() }
                    if case .decimal(let d) = n {
                        let t = d.rounded(.towardZero)
                        if let exact = Int64(exactly: t) { return .int(exact) }
                        return .dec(t)
                    }
                    if case .integer(let v) = n { return .int(v) }
                    return .missing
                case .num:
                    guard let n = number(vs[0], comparing: false) else { throw Bad() }
                    if case .integer(let v) = n { return .int(v) }
                    return .dec(n.doubleValue)
                case .if: fatalError()
                }
            }
        }
        return try go(e)
    }
}

@Suite struct ExpressionOracleTests {
    static let pieces = ["", "", "0", "1", "-1", "7", "10", "2.5", "-0.5", "1e3", "1e400", "abc", "ABC", "Ab c", " 3 ", "x",
        "héllo", "日本", "😀", "007", ".5", "5.", "+4", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "4611686018427387904", "true", "false", "\r", "a b"]

    static func record(_ rng: inout SplitMix64) -> [UInt8] {
        let fields = Int.random(in: 0...5, using: &rng)
        var parts: [String] = []
        for _ in 0..<fields { parts.append(pieces[Int.random(in: 0..<pieces.count, using: &rng)]) }
        return Array(parts.joined(separator: "\t").utf8)
    }

    fileprivate static let expressions: [E] = [
        cmp(.equal, f(1), f(2)), cmp(.notEqual, f(1), f(2)), cmp(.less, f(1), f(2)), cmp(.greaterOrEqual, f(2), f(3)),
        cmp(.equal, f(1), i(7)), cmp(.less, f(1), .decimal(2.5)), cmp(.greater, f(1), s("a")), cmp(.lessOrEqual, f(4), s("")),
        ar(.add, f(1), f(2)), ar(.subtract, f(1), i(1)), ar(.multiply, f(1), f(2)), ar(.divide, f(1), f(2)),
        ar(.remainder, f(1), f(2)), ar(.add, ar(.multiply, f(1), i(3)), f(3)), .negate(f(2)),
        .and(cmp(.notEqual, f(1), s("")), cmp(.greater, f(2), i(1))), .or(cmp(.equal, f(1), s("x")), cmp(.less, ar(.divide, i(1), f(2)), i(1))),
        .not(cmp(.equal, f(3), f(1))), .isIn(f(1), [i(1), s("abc"), f(2)], negated: false), .isIn(f(2), [i(7), s("x")], negated: true),
        call(.len, f(1)), call(.len, f(0)), call(.upper, f(1)), call(.lower, f(2)), call(.trim, f(1)), call(.substr, f(1), f(2), f(3)),
        call(.substr, f(0), i(2), i(3)), call(.contains, f(0), f(1)), call(.startswith, f(1), s("a")), call(.endswith, f(2), f(1)),
        call(.int, f(1)), call(.num, f(2)), call(.if, cmp(.less, f(1), f(2)), f(1), f(2)),
        cmp(.equal, call(.trim, f(1)), i(3)), cmp(.less, call(.len, f(1)), call(.len, f(2))),
        ar(.add, call(.len, f(1)), call(.num, f(2))), cmp(.equal, f(1), .boolean(true)),
    ]

    @Test func selectAndWhereMatchTheOracle() throws {
        var rng = SplitMix64(seed: 2026)
        var pipelines = try Self.expressions.map { try RecordPipeline([.project([$0])]) }
        var filters = try Self.expressions.map { try RecordPipeline([.filter($0)]) }
        var checked = 0
        for _ in 0..<1500 {
            let record = Self.record(&rng)
            for k in Self.expressions.indices {
                let expected = try? Oracle.eval(Self.expressions[k], record)
                var outputs: [[UInt8]] = []
                var bad = false
                do {
                    try record.withUnsafeBytes { rec in
                        try pipelines[k].processChecked(rec, file: Bytes.empty) { outputs.append(Array($0)) }
                    }
                } catch { bad = true }
                let shown = String(decoding: record, as: UTF8.self).debugDescription
                if let expected {
                    #expect(!bad && outputs == [Oracle.text(expected)], "\(Self.expressions[k]) on \(shown): \(outputs.map { String(decoding: $0, as: UTF8.self) })")
                } else {
                    #expect(bad && outputs.isEmpty, "\(Self.expressions[k]) on \(shown) should be bad")
                }
                var kept = 0
                bad = false
                do {
                    try record.withUnsafeBytes { rec in
                        try filters[k].processChecked(rec, file: Bytes.empty) { _ in kept += 1 }
                    }
                } catch { bad = true }
                #expect(bad == (expected == nil))
                #expect(kept == (expected == .bool(true) ? 1 : 0), "where \(Self.expressions[k]) on \(shown)")
                checked += 1
            }
        }
        #expect(checked == 1500 * Self.expressions.count)
    }
}

// MARK: Sort keys

@Suite struct ExpressionSortKeyTests {
    enum Value { case int(Int64), dec(Double), text([UInt8]), missing }

    /// The plain comparator the encoding must agree with: numbers (exactly) < text (bytes) < missing.
    static func compare(_ a: Value, _ b: Value) -> Int {
        func rank(_ v: Value) -> Int {
            switch v {
            case .int, .dec: return 0
            case .text: return 1
            case .missing: return 2
            }
        }
        if rank(a) != rank(b) { return rank(a) < rank(b) ? -1 : 1 }
        switch (a, b) {
        case (.text(let x), .text(let y)): return x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
        case (.missing, .missing): return 0
        default:
            func n(_ v: Value) -> NumericValue {
                if case .int(let i) = v { return .integer(i) }
                if case .dec(let d) = v { return .decimal(d) }
                return .integer(0)
            }
            // NaN: after every other number.
            let an = { if case .dec(let d) = a { return d.isNaN }; return false }()
            let bn = { if case .dec(let d) = b { return d.isNaN }; return false }()
            if an || bn { return an == bn ? 0 : (an ? 1 : -1) }
            return Oracle.order(n(a), n(b)) ?? 0
        }
    }

    static func part(_ v: Value) -> SortKeyEncoding.Part {
        switch v {
        case .int(let i): return .number(.integer(i))
        case .dec(let d): return .number(.decimal(d))
        case .text(let t): return .text(t)
        case .missing: return .missing
        }
    }

    static func randomValue(_ rng: inout SplitMix64) -> Value {
        let specials: [Int64] = [0, 1, -1, .max, .min, .max - 1, .min + 1, 1 << 53, (1 << 53) + 1, -(1 << 53) - 1, 1 << 62]
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return .int(specials[Int.random(in: 0..<specials.count, using: &rng)] &+ Int64.random(in: -2...2, using: &rng))
        case 1: return .int(Int64(bitPattern: rng.next()) >> Int.random(in: 0..<63, using: &rng))
        case 2:
            let d = [0.0, -0.0, 0.5, -0.5, 9.223372036854775808e18, -9.223372036854775808e18, 9007199254740992, .infinity, -.infinity, .nan, 1e300, -1e-300]
            return .dec(d[Int.random(in: 0..<d.count, using: &rng)])
        case 3: return .dec(Double(Int64.random(in: -100...100, using: &rng)) / 4)
        case 4: return .dec(Double(bitPattern: rng.next()))
        case 5: return .missing
        default:
            let alphabet: [UInt8] = [0x00, 0x09, 0x0A, 0x0D, 0x20, 0x30, 0x41, 0x61, 0x7F, 0x80, 0xC3, 0xFF]
            let n = Int.random(in: 0...4, using: &rng)
            return .text((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
        }
    }

    @Test func encodedBytesSortLikeTheComparator() {
        var rng = SplitMix64(seed: 99)
        for descending in [false, true] {
            for _ in 0..<4000 {
                let a = [Self.randomValue(&rng), Self.randomValue(&rng)]
                let b = [Self.randomValue(&rng), Self.randomValue(&rng)]
                // Ties on the first part are common: make some.
                let b2 = Int.random(in: 0..<3, using: &rng) == 0 ? [a[0], b[1]] : b
                let ka = SortKeyEncoding.encode(a.map { (Self.part($0), descending: descending) })
                let kb = SortKeyEncoding.encode(b2.map { (Self.part($0), descending: descending) })
                #expect(!ka.contains(0x09) && !ka.contains(0x0A) && !ka.contains(0x0D))
                var expected = 0
                for k in 0..<2 {
                    var c = Self.compare(a[k], b2[k])
                    // Descending reverses numbers and text; missing stays last.
                    if descending, case .missing = a[k] {} else if descending, case .missing = b2[k] {} else if descending { c = -c }
                    if c != 0 { expected = c; break }
                }
                let actual = ka == kb ? 0 : (ka.lexicographicallyPrecedes(kb) ? -1 : 1)
                #expect(actual == expected, "\(a) vs \(b2) descending: \(descending)")
            }
        }
    }

    @Test func equalIntegerAndDoubleEncodeTheSame() {
        for v: Int64 in [0, 1, -7, 1 << 53, -(1 << 62), .min] {
            #expect(SortKeyEncoding.encode([(.number(.integer(v)), false)]) == SortKeyEncoding.encode([(.number(.decimal(Double(v))), false)]))
        }
        #expect(SortKeyEncoding.encode([(.number(.decimal(-0.0)), false)]) == SortKeyEncoding.encode([(.number(.integer(0)), false)]))
        let big = SortKeyEncoding.encode([(.number(.integer(.max)), false)])
        let twoTo63 = SortKeyEncoding.encode([(.number(.decimal(9.223372036854775808e18)), false)])
        #expect(big.lexicographicallyPrecedes(twoTo63))
    }

    @Test func stagePrependsTheKey() throws {
        let r = try run([.prependSortKey([SortKeyPart(f(2), descending: false), SortKeyPart(f(1), descending: true)])], Array("b\t10".utf8))
        let expectedKey = SortKeyEncoding.encode([(.number(.integer(10)), false), (.text(Array("b".utf8)), true)])
        #expect(r.outputs == [expectedKey + [0x09] + Array("b\t10".utf8)])
        // Numeric strings sort as numbers: "9" before "10".
        let nine = try run([.prependSortKey([SortKeyPart(f(1), descending: false)])], Array("9".utf8)).outputs[0]
        let ten = try run([.prependSortKey([SortKeyPart(f(1), descending: false)])], Array("10".utf8)).outputs[0]
        #expect(nine.lexicographicallyPrecedes(ten))
        let bad = try run([.prependSortKey([SortKeyPart(ar(.add, f(1), i(1)), descending: false)])], Array("q".utf8), policy: .skip)
        #expect(bad.outputs.isEmpty && bad.skipped == 1)
    }
}

// MARK: Whole jobs

@Suite struct ExpressionJobTests {
    @Test func mapSideBadRecordFailsTheTaskNamingTheInput() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\t1\nb\tx\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([input]), mapOps: [.project([f(1), ar(.add, f(2), i(1))])], output: .standardOutput)
        ])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.message.hasSuffix("on \(input) at offset 0: 'x' is not a number in $2 + 1 (the record at byte 4 of \(input))")
        }
    }

    @Test func badRecordAfterALiteralGrepNamesItsOffset() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\t1\nok\t2\nno\nok\tz\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([input]), mapOps: [.grep(.literal("ok"), negated: false), .filter(cmp(.greater, ar(.add, f(2), i(1)), i(0)))],
                output: .standardOutput)
        ])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.message.hasSuffix(": 'z' is not a number in $2 + 1 (the record at byte 12 of \(input))")
        }
    }

    @Test func skipPolicyCountsMapAndReduceSideBadRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\t1\nb\tx\na\t2\nc\t0\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([input]), mapOps: [.filter(cmp(.greaterOrEqual, ar(.add, f(2), i(0)), i(0)))],
                shuffle: .aggregate(.sum), reduceOps: [.project([f(1), ar(.divide, i(6), f(2))])], output: .standardOutput)
        ])
        let engine = try Engine(options: EngineOptions(workers: 1, settings: JobSettings(skipBadRecords: true), scratchDirectory: dir.file("scratch")))
        let sink = CollectingSink()
        let summary = try await engine.run(plan, output: sink)
        #expect(sink.lines == ["a\t2"])
        #expect(summary.jobs[0].map.skippedRecords == 1)
        #expect(summary.jobs[0].reduce.skippedRecords == 1)
    }

    @Test func reduceSideBadRecordFails() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\t1\nc\t0\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([input]), shuffle: .aggregate(.sum), reduceOps: [.project([ar(.divide, i(6), f(2))])],
                output: .standardOutput)
        ])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.message.hasSuffix("division by zero in 6 / $2")
        }
    }
}

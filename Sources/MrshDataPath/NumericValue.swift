#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A number read from a record's value: an integer while it fits in `Int64`, else a decimal.
public enum NumericValue: Sendable, Equatable {
    case integer(Int64)
    case decimal(Double)

    public var doubleValue: Double {
        switch self {
        case .integer(let v): return Double(v)
        case .decimal(let v): return v
        }
    }

    /// Parses `[+-]?digits[.digits][(e|E)[+-]?digits]` (also `.5` and `5.`), optionally followed by one
    /// CR (the last field of a CRLF line: records keep it); nil when the bytes are not such a number.
    /// Integers that overflow `Int64` become decimals.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> NumericValue? {
        var count = bytes.count
        if count > 1 && bytes[count - 1] == 0x0D { count -= 1 }
        if count == 0 { return nil }
        var i = 0
        var negative = false
        let first = bytes[0]
        if first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            i = 1
        }
        var value: Int64 = 0
        var overflow = false
        var digits = 0
        while i < count {
            let d = bytes[i] &- 0x30
            if d > 9 { break }
            if !overflow {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
                if o1 || o2 { overflow = true } else { value = a }
            }
            digits += 1
            i += 1
        }
        if i == count && !overflow {
            return digits > 0 ? .integer(value) : nil
        }
        // Decimal: validate the rest of the grammar, then let strtod do the rounding.
        var fractionDigits = 0
        if i < count && bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < count && bytes[i] &- 0x30 <= 9 { i += 1; fractionDigits += 1 }
        }
        if digits + fractionDigits == 0 { return nil }
        if i < count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            if i < count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            var exponentDigits = 0
            while i < count && bytes[i] &- 0x30 <= 9 { i += 1; exponentDigits += 1 }
            if exponentDigits == 0 { return nil }
        }
        if i != count { return nil }
        let parsed: Double = withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { text in
            for j in 0..<count { text[j] = CChar(bitPattern: bytes[j]) }
            text[count] = 0
            // text has count + 1 >= 2 elements, so baseAddress is non-nil.
            return strtod(text.baseAddress!, nil)
        }
        return .decimal(parsed)
    }

    public static func parse(_ bytes: [UInt8]) -> NumericValue? {
        bytes.withUnsafeBytes { parse($0) }
    }

    /// Adds, turning into a decimal when an integer sum overflows.
    public static func + (lhs: NumericValue, rhs: NumericValue) -> NumericValue {
        if case .integer(let a) = lhs, case .integer(let b) = rhs {
            let (sum, overflow) = a.addingReportingOverflow(b)
            if !overflow { return .integer(sum) }
        }
        return .decimal(lhs.doubleValue + rhs.doubleValue)
    }

    /// Numeric comparison (integers exactly, otherwise as doubles).
    public static func compare(_ lhs: NumericValue, _ rhs: NumericValue) -> Int {
        if case .integer(let a) = lhs, case .integer(let b) = rhs {
            return a < b ? -1 : (a > b ? 1 : 0)
        }
        let a = lhs.doubleValue
        let b = rhs.doubleValue
        return a < b ? -1 : (a > b ? 1 : 0)
    }

    /// Integers plainly; decimals in the shortest representation that reads back the same, and without
    /// a fraction when they are whole (`2.5`, `1.5`, `2`).
    public var formatted: String {
        switch self {
        case .integer(let v): return String(v)
        case .decimal(let v): return NumericValue.format(v)
        }
    }

    public static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 9.0e15 {
            return String(Int64(v))
        }
        return v.description
    }
}

import MrshPlan

/// A partial result of a combinable aggregate (`count`, `sum`, `min`, `max`, `avg`), as the combiner and
/// the reducer hold it, and its fixed binary form in shuffle entries.
///
/// Sums are exact and independent of input order: integers add in 128 bits (`integer`, with `wraps`
/// counting the times the 128-bit sum wrapped, so a sum that passes Int128 on the way and comes back is
/// still exact), decimals add in a Double (`decimal`) beside them. A sum whose integer part ends outside
/// Int128 or whose decimal part became infinite is an error of its key (`check`).
///
/// Binary form: count: 8 bytes (Int64 LE); min/max: a tag byte (0 integer, 1 decimal, 2 none) + 8 bytes;
/// sum: flags (1 byte) + integer (16) + wraps (8) + decimal (8) = 33; avg: the sum (33) + the count (8).
public struct PartialAggregate: Sendable, Equatable {
    // (Declared widest first: 64 bytes a partial.)
    /// sum and avg: the integer part of the sum, modulo 2^128.
    public var integer: Int128 = 0
    /// sum and avg: the sum of the decimal values.
    public var decimal: Double = 0
    /// sum and avg: how many times `integer` wrapped (positive: past Int128.max).
    public var wraps: Int64 = 0
    /// count: the records; avg: the values; min, max and sum: > 0 once a value was seen.
    public var count: Int64 = 0
    /// min and max: the extreme so far (meaningful when `count > 0`).
    public var number: NumericValue = .integer(0)
    /// `hasDecimal`, `decimalOverflow`.
    public var flags: UInt8 = 0

    public static let hasDecimal: UInt8 = 1
    public static let decimalOverflow: UInt8 = 2

    public init(number: NumericValue = .integer(0), count: Int64 = 0) {
        self.number = number
        self.count = count
        switch number {
        case .integer(let v): integer = Int128(v)
        case .decimal(let d):
            decimal = d
            flags = PartialAggregate.hasDecimal | (d.isFinite ? 0 : PartialAggregate.decimalOverflow)
        }
    }

    /// The partial of one value for `aggregate`: nil when the bytes are not a number. Sums read integers
    /// of up to 128 bits exactly (`NumericValue.parse` makes decimals of integers past Int64). A trailing
    /// CR (the last field of a CRLF line) is not part of the number.
    @inline(__always)
    public static func of(_ aggregate: Aggregate, _ value: UnsafeRawBufferPointer) -> PartialAggregate? {
        let bytes = value.last == 0x0D ? UnsafeRawBufferPointer(rebasing: value.dropLast()) : value
        guard let number = NumericValue.parse(bytes) else { return nil }
        if case .decimal = number, aggregate == .sum || aggregate == .avg, let wide = parseInteger128(bytes) {
            var partial = PartialAggregate(count: 1)
            partial.integer = wide
            return partial
        }
        return PartialAggregate(number: number, count: 1)
    }

    /// `[+-]?digits` that fits Int128, else nil.
    static func parseInteger128(_ bytes: UnsafeRawBufferPointer) -> Int128? {
        var i = 0
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            i = 1
        }
        if i == bytes.count { return nil }
        var value: Int128 = 0
        while i < bytes.count {
            let d = bytes[i] &- 0x30
            if d > 9 { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int128(d)) : m.addingReportingOverflow(Int128(d))
            if o1 || o2 { return nil }
            value = a
            i += 1
        }
        return value
    }

    public static func encodedSize(_ aggregate: Aggregate) -> Int {
        switch aggregate {
        case .count: return 8
        case .min, .max: return 9
        case .sum: return 33
        case .avg: return 41
        case .collect, .distinct: return 0
        }
    }

    /// The largest `encodedSize`.
    public static let largestEncodedSize = 41

    /// Writes the binary form into `out` (at least `encodedSize` bytes).
    @inline(__always)
    public func encode(_ aggregate: Aggregate, into out: UnsafeMutableRawPointer) {
        switch aggregate {
        case .count:
            out.storeBytes(of: count.littleEndian, toByteOffset: 0, as: Int64.self)
        case .min, .max:
            if count == 0 {
                out.storeBytes(of: 2, as: UInt8.self)
                out.storeBytes(of: UInt64(0), toByteOffset: 1, as: UInt64.self)
            } else {
                PartialAggregate.storeNumber(number, out)
            }
        case .sum:
            storeSum(out, flags: flags | (count > 0 ? PartialAggregate.hasValue : 0))
        case .avg:
            storeSum(out, flags: flags)
            out.storeBytes(of: count.littleEndian, toByteOffset: 33, as: Int64.self)
        case .collect, .distinct:
            break
        }
    }

    /// Flag bit of an encoded sum: a value was seen (a sum's count is not encoded).
    static let hasValue: UInt8 = 4

    @inline(__always)
    private func storeSum(_ out: UnsafeMutableRawPointer, flags: UInt8) {
        out.storeBytes(of: flags, as: UInt8.self)
        let bits = UInt128(bitPattern: integer)
        out.storeBytes(of: UInt64(truncatingIfNeeded: bits).littleEndian, toByteOffset: 1, as: UInt64.self)
        out.storeBytes(of: UInt64(truncatingIfNeeded: bits >> 64).littleEndian, toByteOffset: 9, as: UInt64.self)
        out.storeBytes(of: wraps.littleEndian, toByteOffset: 17, as: Int64.self)
        out.storeBytes(of: decimal.bitPattern.littleEndian, toByteOffset: 25, as: UInt64.self)
    }

    @inline(__always)
    private mutating func loadSum(_ bytes: UnsafeRawBufferPointer) {
        flags = bytes[0] & (PartialAggregate.hasDecimal | PartialAggregate.decimalOverflow)
        let low = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
        let high = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 9, as: UInt64.self))
        integer = Int128(bitPattern: UInt128(high) << 64 | UInt128(low))
        wraps = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 17, as: Int64.self))
        decimal = Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 25, as: UInt64.self)))
    }

    @inline(__always)
    public static func decode(_ aggregate: Aggregate, _ bytes: UnsafeRawBufferPointer) -> PartialAggregate {
        switch aggregate {
        case .count:
            return PartialAggregate(count: Int64(littleEndian: bytes.loadUnaligned(as: Int64.self)))
        case .min, .max:
            if bytes[0] == 2 { return PartialAggregate() }
            var partial = PartialAggregate()
            partial.number = loadNumber(bytes)
            partial.count = 1
            return partial
        case .sum:
            var partial = PartialAggregate()
            partial.loadSum(bytes)
            partial.count = bytes[0] & hasValue != 0 ? 1 : 0
            return partial
        case .avg:
            var partial = PartialAggregate()
            partial.loadSum(bytes)
            partial.count = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 33, as: Int64.self))
            return partial
        case .collect, .distinct:
            return PartialAggregate()
        }
    }

    /// Folds `other` into `self`.
    @inline(__always)
    public mutating func merge(_ aggregate: Aggregate, _ other: PartialAggregate) {
        switch aggregate {
        case .count:
            count &+= other.count
        case .sum, .avg:
            let (sum, overflow) = integer.addingReportingOverflow(other.integer)
            integer = sum
            wraps &+= other.wraps
            if overflow { wraps &+= other.integer > 0 ? 1 : -1 }
            if other.flags != 0 {
                decimal += other.decimal
                flags |= other.flags
                if !decimal.isFinite { flags |= PartialAggregate.decimalOverflow }
            }
            count &+= other.count
        case .min:
            if other.count == 0 { return }
            if count == 0 || NumericValue.compare(other.number, number) < 0 { number = other.number }
            count = 1
        case .max:
            if other.count == 0 { return }
            if count == 0 || NumericValue.compare(other.number, number) > 0 { number = other.number }
            count = 1
        case .collect, .distinct:
            break
        }
    }

    /// Throws when the sum of `key` cannot be printed: its integer part is past Int128 or its decimal part
    /// became infinite.
    public func check(_ aggregate: Aggregate, key: UnsafeRawBufferPointer) throws {
        guard aggregate == .sum || aggregate == .avg else { return }
        if wraps != 0 {
            throw EngineError.failed("sum of key '\(PartialAggregate.describeKey(key))' is past 128-bit integers")
        }
        if flags & PartialAggregate.decimalOverflow != 0
            || (flags & PartialAggregate.hasDecimal != 0 && !(Double(integer) + decimal).isFinite)
        {
            throw EngineError.failed("sum of key '\(PartialAggregate.describeKey(key))' is past the largest decimal")
        }
    }

    /// A key for a message: TABs between key fields shown as `\t`, at most 60 bytes.
    static func describeKey(_ key: UnsafeRawBufferPointer) -> String {
        MapCollector.excerpt(key).split(separator: "\t", omittingEmptySubsequences: false).joined(separator: "\\t")
    }

    /// Appends the result text (`check` first): integers plainly (128-bit ones too), decimals as
    /// `NumericValue.format`; empty when no value was seen (except `count`).
    public func appendResult(_ aggregate: Aggregate, to line: inout [UInt8]) {
        switch aggregate {
        case .count:
            PartReducer.appendInteger(count, to: &line)
        case .min, .max:
            if count == 0 { return }
            if case .integer(let v) = number {
                PartReducer.appendInteger(v, to: &line)
            } else {
                line.append(contentsOf: number.formatted.utf8)
            }
        case .sum:
            if count == 0 { return }
            if flags & PartialAggregate.hasDecimal == 0 {
                if let small = Int64(exactly: integer) {
                    PartReducer.appendInteger(small, to: &line)
                } else {
                    line.append(contentsOf: String(integer).utf8)
                }
            } else {
                line.append(contentsOf: NumericValue.format(Double(integer) + decimal).utf8)
            }
        case .avg:
            if count == 0 { return }
            let total = flags & PartialAggregate.hasDecimal == 0 ? Double(integer) : Double(integer) + decimal
            line.append(contentsOf: NumericValue.format(total / Double(count)).utf8)
        case .collect, .distinct:
            break
        }
    }

    /// The reduce result as text.
    public func result(_ aggregate: Aggregate) -> String {
        var line: [UInt8] = []
        appendResult(aggregate, to: &line)
        return String(decoding: line, as: UTF8.self)
    }

    @inline(__always)
    static func storeNumber(_ number: NumericValue, _ out: UnsafeMutableRawPointer) {
        switch number {
        case .integer(let v):
            out.storeBytes(of: 0, as: UInt8.self)
            out.storeBytes(of: v.littleEndian, toByteOffset: 1, as: Int64.self)
        case .decimal(let d):
            out.storeBytes(of: 1, as: UInt8.self)
            out.storeBytes(of: d.bitPattern.littleEndian, toByteOffset: 1, as: UInt64.self)
        }
    }

    @inline(__always)
    static func loadNumber(_ bytes: UnsafeRawBufferPointer) -> NumericValue {
        let raw = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
        return bytes[0] == 0 ? .integer(Int64(bitPattern: raw)) : .decimal(Double(bitPattern: raw))
    }
}

/// The partials of several aggregations of one group (`reduce AGG, ... by KEY`), side by side in one
/// fixed-size binary form: each aggregation's `PartialAggregate` form, in aggregation order.
package struct PartialTuple: Sendable {
    package let aggregates: [Aggregate]
    package let offsets: [Int]
    package let size: Int

    package init(_ aggregates: [Aggregate]) {
        self.aggregates = aggregates
        var offsets: [Int] = []
        var size = 0
        for aggregate in aggregates {
            offsets.append(size)
            size += PartialAggregate.encodedSize(aggregate)
        }
        self.offsets = offsets
        self.size = size
    }

    var count: Int { aggregates.count }

    @inline(__always)
    func encode(_ partials: UnsafePointer<PartialAggregate>, into out: UnsafeMutableRawPointer) {
        for i in 0..<aggregates.count { partials[i].encode(aggregates[i], into: out + offsets[i]) }
    }

    /// Folds the encoded tuple `bytes` into `partials`.
    @inline(__always)
    func merge(_ bytes: UnsafeRawBufferPointer, into partials: UnsafeMutablePointer<PartialAggregate>) {
        for i in 0..<aggregates.count {
            let part = UnsafeRawBufferPointer(rebasing: bytes[offsets[i]..<(offsets[i] + PartialAggregate.encodedSize(aggregates[i]))])
            partials[i].merge(aggregates[i], PartialAggregate.decode(aggregates[i], part))
        }
    }

    /// Folds `other` into `partials`, element by element.
    @inline(__always)
    func merge(_ other: UnsafePointer<PartialAggregate>, into partials: UnsafeMutablePointer<PartialAggregate>) {
        for i in 0..<aggregates.count { partials[i].merge(aggregates[i], other[i]) }
    }
}

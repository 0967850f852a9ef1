import MrshPlan

/// A partial result of a combinable aggregate (`count`, `sum`, `min`, `max`, `avg`), as the combiner and
/// the reducer hold it, and its fixed binary form in shuffle entries:
/// count: 8 bytes (Int64 LE); sum/min/max: a tag byte (0 integer, 1 decimal) + 8 bytes; avg: the sum
/// (9 bytes) + the count (8 bytes).
public struct PartialAggregate: Sendable, Equatable {
    public var number: NumericValue = .integer(0)
    public var count: Int64 = 0

    public init(number: NumericValue = .integer(0), count: Int64 = 0) {
        self.number = number
        self.count = count
    }

    public static func encodedSize(_ aggregate: Aggregate) -> Int {
        switch aggregate {
        case .count: return 8
        case .sum, .min, .max: return 9
        case .avg: return 17
        case .collect, .distinct: return 0
        }
    }

    /// Writes the binary form into `out` (at least `encodedSize` bytes).
    @inline(__always)
    public func encode(_ aggregate: Aggregate, into out: UnsafeMutableRawPointer) {
        switch aggregate {
        case .count:
            out.storeBytes(of: count.littleEndian, toByteOffset: 0, as: Int64.self)
        case .sum, .min, .max:
            PartialAggregate.storeNumber(number, out)
        case .avg:
            PartialAggregate.storeNumber(number, out)
            out.storeBytes(of: count.littleEndian, toByteOffset: 9, as: Int64.self)
        case .collect, .distinct:
            break
        }
    }

    @inline(__always)
    public static func decode(_ aggregate: Aggregate, _ bytes: UnsafeRawBufferPointer) -> PartialAggregate {
        switch aggregate {
        case .count:
            return PartialAggregate(count: Int64(littleEndian: bytes.loadUnaligned(as: Int64.self)))
        case .sum, .min, .max:
            return PartialAggregate(number: loadNumber(bytes), count: 1)
        case .avg:
            return PartialAggregate(
                number: loadNumber(bytes), count: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 9, as: Int64.self)))
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
            number = number + other.number
            count &+= other.count
        case .min:
            if NumericValue.compare(other.number, number) < 0 { number = other.number }
        case .max:
            if NumericValue.compare(other.number, number) > 0 { number = other.number }
        case .collect, .distinct:
            break
        }
    }

    /// The reduce result as text.
    public func result(_ aggregate: Aggregate) -> String {
        switch aggregate {
        case .count: return String(count)
        case .sum, .min, .max: return number.formatted
        case .avg: return NumericValue.format(count == 0 ? 0 : number.doubleValue / Double(count))
        case .collect, .distinct: return ""
        }
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

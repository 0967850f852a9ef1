/// Byte counts as people write them: `123`, `64K`, `32M`, `1G` (powers of 1024).
public enum ByteSize {
    /// Parses `N`, `NK`, `NM` or `NG` (case-insensitive); nil for anything else or on overflow.
    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text)
        var multiplier: Int64 = 1
        switch digits.last.map({ Character($0.uppercased()) }) {
        case "K": multiplier = 1 << 10
        case "M": multiplier = 1 << 20
        case "G": multiplier = 1 << 30
        default: break
        }
        if multiplier != 1 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// The shortest exact form: `32M` for 33554432, `1500` for 1500.
    public static func format(_ bytes: Int64) -> String {
        for (suffix, unit) in [("G", Int64(1) << 30), ("M", Int64(1) << 20), ("K", Int64(1) << 10)]
        where bytes >= unit && bytes % unit == 0 {
            return "\(bytes / unit)\(suffix)"
        }
        return String(bytes)
    }
}

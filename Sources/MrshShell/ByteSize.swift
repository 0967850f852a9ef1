/// Sizes as users write them: `1500`, `64K`, `32M`, `1G`, `2T` (binary units, so `64K` is 65,536 bytes);
/// `KiB`, `MiB`, `GiB` and `TiB` say the same, in any case.
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text)
        if digits.count > 3, digits.suffix(2).lowercased() == "ib" { digits = digits.dropLast(2) }
        var multiplier: Int64 = 1
        switch digits.last.map({ Character($0.uppercased()) }) {
        case "K": multiplier = 1 << 10
        case "M": multiplier = 1 << 20
        case "G": multiplier = 1 << 30
        case "T": multiplier = 1 << 40
        default: if digits.count != text.count { return nil }  // "iB" without a unit letter
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

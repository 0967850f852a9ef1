/// "Is this scalar a letter" (general category Lu, Ll, Lt, Lm or Lo) for the `words` operator.
///
/// The Basic Multilingual Plane is answered from a bit set built once per process (8 KiB); scalars
/// above it (rare in text) ask the standard library's Unicode tables directly.
enum LetterTable {
    /// One bit per BMP scalar; surrogate code points are never letters.
    static let bmp: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 65536 / 64)
        for v in 0..<UInt32(65536) {
            if let scalar = Unicode.Scalar(v), isLetterCategory(scalar) {
                bits[Int(v >> 6)] |= 1 << UInt64(v & 63)
            }
        }
        return bits
    }()

    @inline(__always)
    static func isLetterCategory(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return false
        }
    }

    /// Whether the (valid) scalar value `v` is a letter.
    @inline(__always)
    static func isLetter(_ v: UInt32) -> Bool {
        if v < 0x10000 {
            return bmp[Int(v >> 6)] >> UInt64(v & 63) & 1 != 0
        }
        guard let scalar = Unicode.Scalar(v) else { return false }
        return isLetterCategory(scalar)
    }
}

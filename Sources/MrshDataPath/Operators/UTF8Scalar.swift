/// Hand-written UTF-8 decoding for the byte hot paths (words, case mapping).
enum UTF8Scalar {
    /// Decodes the scalar whose lead byte `base[i]` is >= 0x80, validating it strictly (Unicode
    /// Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
    /// - Returns: the scalar value and its length in bytes, or length 0 when `base[i]` does not start a
    ///   valid sequence (the caller then treats that single byte as invalid and moves on by one).
    @inline(__always)
    static func decode(_ base: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (value: UInt32, length: Int) {
        let b0 = base[i]
        @inline(__always) func cont(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> UInt32? {
            guard i + k < n else { return nil }
            let b = base[i + k]
            guard b >= low && b <= high else { return nil }
            return UInt32(b & 0x3F)
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return (0, 0) }
            return (UInt32(b0 & 0x1F) << 6 | c1, 2)
        case 0xE0...0xEF:
            let low: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            guard let c1 = cont(1, low, high), let c2 = cont(2) else { return (0, 0) }
            return (UInt32(b0 & 0x0F) << 12 | c1 << 6 | c2, 3)
        case 0xF0...0xF4:
            let low: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            guard let c1 = cont(1, low, high), let c2 = cont(2), let c3 = cont(3) else { return (0, 0) }
            return (UInt32(b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3, 4)
        default:
            return (0, 0)
        }
    }
}

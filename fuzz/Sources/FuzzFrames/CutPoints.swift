/// Chunk sizes derived from the input's seed (xorshift32): mostly small, so that headers and payloads are
/// split at every possible byte, sometimes large.
struct CutPoints {
    private var state: UInt32

    init(seed: UInt32) { state = seed == 0 ? 0x9E37_79B9 : seed }

    mutating func next() -> Int {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        switch state % 8 {
        case 0: return 1
        case 1...4: return Int((state >> 8) % 8) + 1
        case 5, 6: return Int((state >> 8) % 64) + 1
        default: return Int((state >> 8) % 4096) + 1
        }
    }
}

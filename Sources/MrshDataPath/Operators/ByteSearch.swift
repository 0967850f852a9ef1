import CMrshShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a fixed byte string in records: memchr for one byte, memmem otherwise.
struct LiteralSearch {
    let needle: [UInt8]

    init(_ needle: String) {
        self.needle = Array(needle.utf8)
    }

    init(bytes: [UInt8]) {
        needle = bytes
    }

    /// Start of the first occurrence at or after `from`, or nil. An empty needle matches at `from`.
    @inline(__always)
    func firstIndex(in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        let n = bytes.count
        guard from <= n else { return nil }
        if needle.isEmpty { return from }
        guard let base = bytes.baseAddress, n - from >= needle.count else { return nil }
        let start = base + from
        let found: UnsafeRawPointer?
        if needle.count == 1 {
            found = UnsafeRawPointer(memchr(start, Int32(needle[0]), n - from))
        } else {
            found = needle.withUnsafeBytes { nb in
                // The needle is non-empty here, so its base address exists.
                mrsh_memmem(start, n - from, nb.baseAddress, nb.count)
            }
        }
        guard let found else { return nil }
        return found - base
    }

    @inline(__always)
    func contains(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstIndex(in: bytes, from: 0) != nil
    }

    /// True when `pattern` is a POSIX ERE with no metacharacter, so it matches exactly its own bytes.
    static func isPlainLiteral(_ pattern: String) -> Bool {
        !pattern.isEmpty && !pattern.utf8.contains { b in
            switch b {
            case UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"),
                UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"),
                UInt8(ascii: "|"), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "\\"):
                return true
            default:
                return false
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pull-style reading of the newline-terminated lines of a byte range (whole lines only; the range
/// starts at a line start). `current` is valid until the next `next()`.
package final class LineCursor {
    private let fd: Int32
    private let path: String
    private var buffer: UnsafeMutableRawBufferPointer
    private var position: Int64
    private let end: Int64
    private var start = 0
    private var filled = 0
    package private(set) var current = Bytes.empty

    package init(path: String, range: Range<Int64>, bufferSize: Int = 1 << 18) throws {
        fd = try FileIO.openForReading(path)
        self.path = path
        buffer = .allocate(byteCount: max(64, bufferSize), alignment: 16)
        position = range.lowerBound
        end = range.upperBound
    }

    deinit {
        buffer.deallocate()
        FileIO.closeQuietly(fd)
    }

    /// The buffer's start; allocated with at least 64 bytes, so `baseAddress` is never nil.
    private var base: UnsafeMutableRawPointer { buffer.baseAddress! }

    package func next() throws -> Bool {
        while true {
            if start < filled, let newline = memchr(base + start, 0x0A, filled - start) {
                let lineEnd = base.distance(to: newline)
                current = UnsafeRawBufferPointer(start: base + start, count: lineEnd - start)
                start = lineEnd + 1
                return true
            }
            if position >= end {
                if start < filled {
                    current = UnsafeRawBufferPointer(start: base + start, count: filled - start)
                    start = filled
                    return true
                }
                return false
            }
            let remaining = filled - start
            if start > 0 {
                if remaining > 0 { memmove(base, base + start, remaining) }
                start = 0
                filled = remaining
            } else if filled == buffer.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(start: base, count: filled))
                buffer.deallocate()
                buffer = bigger
            }
            let want = min(buffer.count - filled, Int(end - position))
            let n = try FileIO.read(fd, into: base + filled, count: want, at: position, path: path)
            if n == 0 {
                throw EngineError.failed("'\(path)' is shorter than expected")
            }
            filled += n
            position += Int64(n)
        }
    }
}

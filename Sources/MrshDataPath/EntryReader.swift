#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams the `(a, b)` entries of one byte range of a map-output file or sorted run, with a bounded
/// buffer (grown only for an entry larger than it).
public final class EntryReader {
    private let fd: Int32
    private let path: String
    private var buffer: UnsafeMutableRawBufferPointer
    private var filePosition: Int64  // file position of buffer[filled]
    private let begin: Int64
    private let end: Int64
    private var start = 0
    private var filled = 0
    /// The current entry, valid until the next `next()`.
    public private(set) var a = Bytes.empty
    public private(set) var b = Bytes.empty
    public private(set) var entriesRead: Int64 = 0

    public init(path: String, range: Range<Int64>, bufferSize: Int = 1 << 20) throws {
        self.fd = try FileIO.openForReading(path)
        self.path = path
        self.buffer = .allocate(byteCount: max(64, min(bufferSize, Int(max(range.count, 64)))), alignment: 16)
        self.filePosition = range.lowerBound
        self.begin = range.lowerBound
        self.end = range.upperBound
    }

    /// Starts over at the first entry of the range (a join's spilled right records, read once per left record).
    package func rewind() {
        filePosition = begin
        start = 0
        filled = 0
    }

    deinit {
        buffer.deallocate()
        FileIO.closeQuietly(fd)
    }

    /// The buffer's start; allocated with at least 64 bytes, so `baseAddress` is never nil.
    private var base: UnsafeMutableRawPointer { buffer.baseAddress! }

    /// Moves to the next entry; false at the end of the range.
    public func next() throws -> Bool {
        while true {
            if let (headerSize, aCount, bCount) = parseHeader(), filled - start >= headerSize + aCount + bCount {
                let p = base + start + headerSize
                a = UnsafeRawBufferPointer(start: p, count: aCount)
                b = UnsafeRawBufferPointer(start: p + aCount, count: bCount)
                start += headerSize + aCount + bCount
                entriesRead += 1
                return true
            }
            if filePosition >= end {
                if start < filled { throw EngineError.failed("shuffle data '\(path)' ends inside an entry") }
                return false
            }
            try refill()
        }
    }

    /// Varint header of the entry at `start`: (header bytes, a count, b count), or nil if incomplete.
    @inline(__always)
    private func parseHeader() -> (Int, Int, Int)? {
        var i = start
        var values = (0, 0)
        for field in 0..<2 {
            var shift = 0
            var v = 0
            while true {
                if i >= filled { return nil }
                let byte = base.load(fromByteOffset: i, as: UInt8.self)
                i += 1
                v |= Int(byte & 0x7F) << shift
                if byte < 0x80 { break }
                shift += 7
                if shift > 56 { return nil }
            }
            if field == 0 { values.0 = v } else { values.1 = v }
        }
        let needed = i - start + values.0 + values.1
        if needed > buffer.count {
            // Grow so that the entry fits after compaction.
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(needed, buffer.count * 2), alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(start: base + start, count: filled - start))
            buffer.deallocate()
            buffer = bigger
            filled -= start
            i -= start
            start = 0
        }
        return (i - start, values.0, values.1)
    }

    private func refill() throws {
        if start > 0 {
            let remaining = filled - start
            if remaining > 0 { memmove(base, base + start, remaining) }
            filled = remaining
            start = 0
        }
        let want = min(buffer.count - filled, Int(end - filePosition))
        if want == 0 { return }
        let n = try FileIO.read(fd, into: base + filled, count: want, at: filePosition, path: path)
        if n == 0 { throw EngineError.failed("shuffle data '\(path)' is truncated") }
        filled += n
        filePosition += Int64(n)
    }
}

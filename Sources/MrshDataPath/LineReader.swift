import CMrshShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the lines of a byte region of a file with `pread` into one reusable buffer.
///
/// Split semantics: a region that starts inside a line (the byte before `offset` is not `\n`) skips to the
/// next line start; every line that starts inside `offset ..< offset + length` is read to its end, even
/// past the region. So adjacent regions read every line of a file exactly once. A line is the bytes before
/// its `\n`, exactly: a `\r` before it stays (only CSV records end at CRLF, as RFC 4180 says); a last line
/// without `\n` is still a line; bytes are passed through unchanged (no UTF-8 check).
/// A line longer than the buffer grows the buffer. A file that ends before the region does (it was truncated
/// after the job planned its splits) is an error naming it, never silently partial input.
public struct LineReader: ~Copyable {
    private let fd: Int32
    private let path: String
    private let ownsDescriptor: Bool
    private var buffer: UnsafeMutableRawBufferPointer
    private let regionStart: Int64
    private let regionEnd: Int64
    /// Bytes of the file consumed so far (lines and their terminators).
    public private(set) var bytesRead: Int64 = 0
    /// The file offset of the line (`forEachLine`), CSV record (`forEachCSVRecord`) or block (`forEachBlock`)
    /// last passed to `body`: after
    /// `body` throws, where the record it failed on starts (a bad record's message names it).
    public private(set) var recordOffset: Int64 = 0

    /// Opens `path` for the region `offset ..< offset + length`.
    public init(path: String, offset: Int64, length: Int64, bufferSize: Int = 1 << 20) throws {
        self.fd = try FileIO.openForReading(path)
        self.path = path
        self.ownsDescriptor = true
        self.buffer = .allocate(byteCount: max(bufferSize, 16), alignment: 16)
        self.regionStart = offset
        self.regionEnd = offset + length
    }

    /// The buffer's start; allocated with at least 16 bytes, so `baseAddress` is never nil.
    private var bufferBase: UnsafeMutableRawPointer { buffer.baseAddress! }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { FileIO.closeQuietly(fd) }
    }

    /// Calls `body` with blocks of whole lines until it returns false or the region ends: every line of a
    /// block starts inside the region and ends with `\n`, except a last line of the file without one.
    /// Lines keep their terminators (and any `\r`). `bytesRead` grows by each block's size. The buffer
    /// passed to `body` is valid only during the call. `cancel` is polled at every read.
    ///
    /// For scans that look at whole buffers at once (a literal `grep` searched with memmem) instead of
    /// visiting every line.
    public mutating func forEachBlock(
        cancel: CancellationFlag? = nil, _ body: (UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var bufferPosition: Int64 = 0
        var filled = 0
        var start = 0
        var atEOF = false
        if regionStart > 0 {
            guard let first = try firstLineStart(cancel: cancel) else { return }
            (bufferPosition, filled, start) = first
        }
        bytesRead = 0
        while true {
            let base = bufferBase
            let limit = regionEnd - bufferPosition  // lines must start before this buffer index
            if Int64(start) >= limit { return }
            if limit <= Int64(filled) {
                // The region ends inside the buffer: the last line is the one holding byte limit - 1.
                let scanFrom = max(start, Int(limit) - 1)
                if let newline = memchr(base + scanFrom, 0x0A, filled - scanFrom) {
                    let end = base.distance(to: newline) + 1
                    bytesRead += Int64(end - start)
                    recordOffset = bufferPosition + Int64(start)
                    _ = try body(UnsafeRawBufferPointer(start: base + start, count: end - start))
                    return
                }
            }
            if atEOF {
                if start < filled {
                    bytesRead += Int64(filled - start)
                    recordOffset = bufferPosition + Int64(start)
                    _ = try body(UnsafeRawBufferPointer(start: base + start, count: filled - start))
                }
                return
            }
            // The whole lines buffered so far, then more bytes.
            if start < filled, let newline = mrsh_memrchr(base + start, 0x0A, filled - start) {
                let end = UnsafeRawPointer(base).distance(to: newline) + 1
                bytesRead += Int64(end - start)
                recordOffset = bufferPosition + Int64(start)
                if try !body(UnsafeRawBufferPointer(start: base + start, count: end - start)) { return }
                start = end
            }
            try cancel?.check()
            atEOF = try refill(bufferPosition: &bufferPosition, filled: &filled, start: &start)
        }
    }

    /// Makes room and reads more: moves the partial line at `start` to the front of the buffer (or doubles
    /// the buffer when that line fills it), then reads after it. Returns true at the end of the file.
    private mutating func refill(bufferPosition: inout Int64, filled: inout Int, start: inout Int) throws -> Bool {
        let base = bufferBase
        let partial = filled - start
        if start > 0 {
            if partial > 0 { memmove(base, base + start, partial) }
            bufferPosition += Int64(start)
            start = 0
            filled = partial
        } else if filled == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(start: base, count: filled))
            buffer.deallocate()
            buffer = bigger
        }
        let n = try FileIO.read(
            fd, into: bufferBase + filled, count: buffer.count - filled, at: bufferPosition + Int64(filled), path: path)
        if n == 0 {
            try checkNotShorter(endOfFile: bufferPosition + Int64(filled))
            return true
        }
        filled += n
        return false
    }

    /// A file that ends before the region does was truncated after its splits were planned: reading on
    /// would give partial output that looks complete, so the task fails, naming the file.
    private func checkNotShorter(endOfFile: Int64) throws {
        guard endOfFile < regionEnd else { return }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int64(info.st_size) : endOfFile
        throw EngineError.failed(
            "'\(path)' ended at byte \(size), before byte \(regionEnd) that the job planned to read: "
                + "it was truncated while the job ran")
    }

    /// For a region that starts after byte 0: reads from one byte before it up to the first line start
    /// at or after `regionStart`. Returns the buffer's file position, its valid bytes and the line
    /// start's index, or nil when the file ends first.
    private mutating func firstLineStart(cancel: CancellationFlag?) throws -> (Int64, Int, Int)? {
        // Start one byte early: if it is '\n', the region begins exactly at a line start.
        var bufferPosition = regionStart - 1
        while true {
            try cancel?.check()
            let n = try FileIO.read(fd, into: bufferBase, count: buffer.count, at: bufferPosition, path: path)
            if n == 0 {
                try checkNotShorter(endOfFile: bufferPosition)
                return nil
            }
            if let newline = memchr(bufferBase, 0x0A, n) {
                return (bufferPosition, n, bufferBase.distance(to: newline) + 1)
            }
            bufferPosition += Int64(n)
        }
    }

    /// Calls `body` with every CSV record until it returns false or the region ends: like `forEachLine`, but
    /// a line end inside quotes does not end a record (`CSVScan`: after a `\n`, the record ends when its
    /// bytes so far hold an even number of `"`), so a record may hold line breaks. A record is passed without
    /// its `\n` and the `\r` before it; a last record without `\n` is still a record, and an unterminated
    /// quote makes one record of the rest of the file (without the file's final line break).
    ///
    /// The region must start at a record start (the coordinator moves the split points of a CSV source to
    /// record starts, `InputPlanner.csvTasks`; standard input is chunked at record ends): a region starting
    /// after byte 0 begins at its first line start, as `forEachLine`'s does, and every record that starts in
    /// the region is read to its end, even past the region. With `skipFirst` (a header, when the region holds
    /// the file's start), the first record is read but not passed to `body`. `cancel` is polled at every read.
    public mutating func forEachCSVRecord(
        skipFirst: Bool, cancel: CancellationFlag? = nil, _ body: (UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var bufferPosition: Int64
        var filled = 0
        var start = 0  // index in buffer of the current record's start
        var atEOF = false
        if regionStart > 0 {
            guard let first = try firstLineStart(cancel: cancel) else { return }
            (bufferPosition, filled, start) = first
        } else {
            bufferPosition = 0
        }
        bytesRead = 0
        var skip = skipFirst
        // The current record's bytes start ..< start + scanned have been looked at for its end; `odd`: they
        // hold an odd number of quotes. Relative to `start`, so a refill that moves the buffer keeps them.
        var scanned = 0
        var odd = false
        while true {
            if bufferPosition + Int64(start) >= regionEnd { return }
            let base = bufferBase
            var end = -1
            while start + scanned < filled {
                let from = start + scanned
                guard let newline = memchr(base + from, 0x0A, filled - from) else {
                    if CSVScan.oddQuotes(base + from, filled - from) { odd.toggle() }
                    scanned = filled - start
                    break
                }
                let at = base.distance(to: newline)
                if CSVScan.oddQuotes(base + from, at - from) { odd.toggle() }
                scanned = at + 1 - start
                if !odd {
                    end = at
                    break
                }
            }
            if end >= 0 {
                var recordEnd = end
                if recordEnd > start && base.load(fromByteOffset: recordEnd - 1, as: UInt8.self) == 0x0D { recordEnd -= 1 }
                bytesRead += Int64(end + 1 - start)
                recordOffset = bufferPosition + Int64(start)
                if skip {
                    skip = false
                } else if try !body(UnsafeRawBufferPointer(start: base + start, count: recordEnd - start)) {
                    return
                }
                start = end + 1
                scanned = 0
                odd = false
                continue
            }
            if atEOF {
                if start < filled && !skip {
                    recordOffset = bufferPosition + Int64(start)
                    // The last record: without '\n' at the end of the file, or with an unterminated quote
                    // (the file's last '\n' still ends it).
                    var recordEnd = filled
                    if base.load(fromByteOffset: recordEnd - 1, as: UInt8.self) == 0x0A { recordEnd -= 1 }
                    if recordEnd > start && base.load(fromByteOffset: recordEnd - 1, as: UInt8.self) == 0x0D { recordEnd -= 1 }
                    _ = try body(UnsafeRawBufferPointer(start: base + start, count: recordEnd - start))
                }
                bytesRead += Int64(filled - start)
                return
            }
            try cancel?.check()
            atEOF = try refill(bufferPosition: &bufferPosition, filled: &filled, start: &start)
        }
    }

    /// Calls `body` with every line (without its `\n`) until it returns false or the region ends.
    /// The buffer passed to `body` is valid only during the call. `cancel` is polled at every read.
    public mutating func forEachLine(
        cancel: CancellationFlag? = nil, _ body: (UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        // File position of buffer[0], and the valid bytes buffer[0 ..< filled].
        var bufferPosition: Int64
        var filled = 0
        var start = 0  // index in buffer of the current line start
        var atEOF = false

        if regionStart > 0 {
            guard let first = try firstLineStart(cancel: cancel) else { return }
            (bufferPosition, filled, start) = first
        } else {
            bufferPosition = 0
        }
        bytesRead = 0
        while true {
            // The line at `start` begins at file position bufferPosition + start.
            if bufferPosition + Int64(start) >= regionEnd { return }
            let base = bufferBase
            if start < filled, let newline = memchr(base + start, 0x0A, filled - start) {
                let end = base.distance(to: newline)
                bytesRead += Int64(end + 1 - start)
                recordOffset = bufferPosition + Int64(start)
                let keepGoing = try body(UnsafeRawBufferPointer(start: base + start, count: end - start))
                if !keepGoing { return }
                start = end + 1
                continue
            }
            if atEOF {
                if start < filled {
                    bytesRead += Int64(filled - start)
                    recordOffset = bufferPosition + Int64(start)
                    _ = try body(UnsafeRawBufferPointer(start: base + start, count: filled - start))
                }
                return
            }
            // Need more bytes: move the partial line to the front (or grow when it fills the buffer).
            try cancel?.check()
            atEOF = try refill(bufferPosition: &bufferPosition, filled: &filled, start: &start)
        }
    }
}

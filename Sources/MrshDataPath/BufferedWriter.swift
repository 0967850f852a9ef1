#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor: bytes are collected in one buffer and written with `write(2)`
/// when it fills. `close()` flushes; a writer dropped without `close()` closes its descriptor unflushed.
public struct BufferedWriter: ~Copyable {
    private let fd: Int32
    private let path: String
    private let ownsDescriptor: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var closed = false
    /// Bytes written so far (buffered or not).
    public private(set) var bytesWritten: Int64 = 0

    /// Creates (truncates) `path`.
    public init(creating path: String, bufferSize: Int = 1 << 20) throws {
        self.fd = try FileIO.create(path)
        self.path = path
        self.ownsDescriptor = true
        self.buffer = .allocate(byteCount: max(bufferSize, 64), alignment: 16)
    }

    /// Writes to an open descriptor it does not close (for example standard output).
    public init(descriptor: Int32, name: String, bufferSize: Int = 1 << 20) {
        self.fd = descriptor
        self.path = name
        self.ownsDescriptor = false
        self.buffer = .allocate(byteCount: max(bufferSize, 64), alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor && !closed { FileIO.closeQuietly(fd) }
    }

    /// The buffer's start; allocated with at least 64 bytes, so `baseAddress` is never nil.
    private var base: UnsafeMutableRawPointer { buffer.baseAddress! }

    @inline(__always)
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        let count = bytes.count
        bytesWritten += Int64(count)
        if count <= buffer.count - used {
            if count > 0 { (base + used).copyMemory(from: bytes.baseAddress!, byteCount: count) }  // count > 0: non-nil
            used += count
            return
        }
        try flush()
        if count >= buffer.count {
            try FileIO.writeAll(fd, bytes, path: path)
        } else {
            (base).copyMemory(from: bytes.baseAddress!, byteCount: count)  // count > 0 here: non-nil
            used = count
        }
    }

    @inline(__always)
    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    @inline(__always)
    public mutating func writeByte(_ byte: UInt8) throws {
        if used == buffer.count { try flush() }
        base.storeBytes(of: byte, toByteOffset: used, as: UInt8.self)
        used += 1
        bytesWritten += 1
    }

    /// Writes `value` as LEB128 (7 bits a byte, low bits first).
    @inline(__always)
    public mutating func writeVarint(_ value: Int) throws {
        if buffer.count - used < 10 { try flush() }
        var v = UInt(bitPattern: value)
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: used, as: UInt8.self)
            used += 1
            bytesWritten += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: used, as: UInt8.self)
        used += 1
        bytesWritten += 1
    }

    /// Writes one map-output entry, `varint(a.count) varint(b.count) a b`: with one capacity check when
    /// both counts fit in one varint byte and the entry fits in the buffer.
    @inline(__always)
    public mutating func writeEntry(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) throws {
        let aCount = a.count
        let bCount = b.count
        let total = aCount + bCount + 2
        if aCount < 0x80 && bCount < 0x80 && total <= buffer.count - used {
            let p = base + used
            p.storeBytes(of: UInt8(truncatingIfNeeded: aCount), as: UInt8.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: bCount), toByteOffset: 1, as: UInt8.self)
            if aCount > 0 { (p + 2).copyMemory(from: a.baseAddress!, byteCount: aCount) }  // count > 0: non-nil
            if bCount > 0 { (p + 2 + aCount).copyMemory(from: b.baseAddress!, byteCount: bCount) }  // count > 0: non-nil
            used += total
            bytesWritten += Int64(total)
            return
        }
        try writeVarint(aCount)
        try writeVarint(bCount)
        try write(a)
        try write(b)
    }

    /// Writes `value` as 8 little-endian bytes.
    public mutating func writeUInt64(_ value: UInt64) throws {
        try withUnsafeBytes(of: value.littleEndian) { try write($0) }
    }

    public mutating func flush() throws {
        if used > 0 {
            try FileIO.writeAll(fd, UnsafeRawBufferPointer(start: base, count: used), path: path)
            used = 0
        }
    }

    /// Flushes and closes the descriptor (when owned).
    public mutating func close() throws {
        try flush()
        if ownsDescriptor && !closed {
            closed = true
            // Not retried on EINTR: Linux releases the descriptor even then.
            FileIO.closeQuietly(fd)
        }
        closed = true
    }
}

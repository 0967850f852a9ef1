/// A growable byte buffer that one pipeline stage reuses for every record it produces.
///
/// It only grows (doubling), so in steady state writing a record allocates nothing. The bytes are
/// valid until the next `removeAll()`; callers hand out `bytes` only for the duration of a call.
final class ScratchBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var count: Int = 0

    init(capacity: Int = 256) {
        self.capacity = Swift.max(capacity, 16)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    /// The bytes written since the last `removeAll()`.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    @inline(__always)
    func removeAll() {
        count = 0
    }

    /// Makes room for `extra` more bytes; returns where they go. The caller must then `commit(extra)`
    /// (or less).
    @inline(__always)
    func reserve(_ extra: Int) -> UnsafeMutableRawPointer {
        if count + extra > capacity {
            grow(to: count + extra)
        }
        return base + count
    }

    @inline(__always)
    func commit(_ written: Int) {
        count += written
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        let p = reserve(1)
        p.storeBytes(of: byte, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0, let src = bytes.baseAddress else { return }
        let p = reserve(n)
        p.copyMemory(from: src, byteCount: n)
        count += n
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed {
            newCapacity *= 2
        }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}

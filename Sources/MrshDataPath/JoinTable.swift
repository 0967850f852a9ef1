/// The right side of a broadcast join, loaded by a map task (see `Join`): each key's `rest` byte strings
/// (`JoinSide.right`), in the order the right side's records came.
///
/// All bytes (keys and rests) live in one arena; keys are found through an open-addressing index of key
/// numbers (linear probing, at most half full) by the task-private fixed hash `KeyHash`; each key's values are
/// a chain through the value array, appended at its tail. Building costs no allocation per record beyond the
/// amortized growth of the arena and the arrays; a lookup allocates nothing.
package final class JoinTable {
    /// Keys' and rests' bytes.
    private let arena = ScratchBuffer(capacity: 1 << 16)
    private struct Key {
        var offset: Int
        var count: Int
        var hash: UInt64
        var first: Int32
        var last: Int32
    }
    private struct Value {
        var offset: Int
        var count: Int
        /// The key's next value (-1: none).
        var next: Int32
    }
    private var keys: ContiguousArray<Key> = []
    private var values: ContiguousArray<Value> = []
    /// Key number + 1 in each slot (0: empty).
    private var slots: UnsafeMutableBufferPointer<Int32>
    private var mask: Int

    package init() {
        slots = .allocate(capacity: 1024)
        slots.initialize(repeating: 0)
        mask = slots.count - 1
    }

    deinit {
        slots.deallocate()
    }

    /// Distinct keys and values (right records) held.
    package var keyCount: Int { keys.count }
    package var valueCount: Int { values.count }
    /// Bytes of keys and values in the arena.
    package var byteCount: Int { arena.count }

    /// Adds a right record as `.prependJoinKey` made it: `KEY TAB rest`. A record without a TAB or with an
    /// empty key adds nothing (the stage drops empty keys already).
    package func add(_ record: UnsafeRawBufferPointer) throws {
        guard let tab = record.firstIndex(of: 0x09), tab > 0 else { return }
        try add(
            key: UnsafeRawBufferPointer(rebasing: record[..<tab]),
            rest: UnsafeRawBufferPointer(rebasing: record[(tab + 1)...]))
    }

    /// Adds `rest` as the last value of `key`.
    package func add(key: UnsafeRawBufferPointer, rest: UnsafeRawBufferPointer) throws {
        guard values.count < Int(Int32.max) - 1 else {
            throw EngineError.failed("the right side of a broadcast join has more than \(Int32.max - 1) records: join it with `using shuffle`")
        }
        let hash = KeyHash.hash(key)
        var number = find(key, hash: hash)
        if number < 0 {
            if 2 * (keys.count + 1) > slots.count { grow() }
            let offset = arena.count
            arena.append(key)
            number = keys.count
            keys.append(Key(offset: offset, count: key.count, hash: hash, first: -1, last: -1))
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(number + 1)
        }
        let value = Int32(values.count)
        let offset = arena.count
        arena.append(rest)
        values.append(Value(offset: offset, count: rest.count, next: -1))
        if keys[number].last >= 0 {
            values[Int(keys[number].last)].next = value
        } else {
            keys[number].first = value
        }
        keys[number].last = value
    }

    /// The first value of `key` (-1: the key is not in the table); `next(_:)` walks the others in order.
    @inline(__always)
    package func first(_ key: UnsafeRawBufferPointer) -> Int32 {
        let number = find(key, hash: KeyHash.hash(key))
        return number < 0 ? -1 : keys[number].first
    }

    /// The value after `value` of the same key (-1: none).
    @inline(__always)
    package func next(_ value: Int32) -> Int32 { values[Int(value)].next }

    /// The bytes of `value`, valid until the table changes.
    @inline(__always)
    package func rest(_ value: Int32) -> UnsafeRawBufferPointer {
        let v = values[Int(value)]
        return UnsafeRawBufferPointer(start: arena.base + v.offset, count: v.count)
    }

    /// The number of `key` (-1: absent).
    @inline(__always)
    private func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return -1 }
            let candidate = keys[entry - 1]
            if candidate.hash == hash,
                Bytes.equal(UnsafeRawBufferPointer(start: arena.base + candidate.offset, count: candidate.count), key)
            {
                return entry - 1
            }
            slot = (slot + 1) & mask
        }
    }

    /// Doubles the index and places every key again.
    private func grow() {
        let capacity = slots.count * 2
        slots.deallocate()
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        mask = capacity - 1
        for (number, key) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: key.hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(number + 1)
        }
    }
}

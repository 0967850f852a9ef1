import MrshPlan
import NIOCore

/// The binary form of `ControlMessage.mapOutputs`, a frame of kind `mapOutputs` (docs/PROTOCOL.md).
///
/// It is the message a coordinator sends most: every accepted map output goes to every running reduce
/// attempt, M x R (output, reducer) pairs in a job. As JSON each pair cost about 110 bytes and a keyed
/// decode of four nested objects; here the holder, address and run names of a frame are sent once, a blob
/// id is its numbers, and every number is an unsigned LEB128 varint (about 12 bytes a pair).
///
///     request varint
///     names   varint count, then each: varint byte length, UTF-8 bytes
///     updates varint count, then each:
///       task     varint
///       location holder name, address name, id
///       origin   0, or 1 then holder name, address name, id
///     id      run name, kind byte, then mapOutput (0), reduceOutput (1), keptMapOutput (2),
///             keptReduceOutput (3): job, task or partition, attempt; standardInput (4): chunk
///
/// A name is its varint index in `names`. Decoding refuses anything else: a truncated or overlong varint, a
/// number past `Int.max`, an index past the table, a run that is not one path component, a kind not in
/// the list, trailing bytes.
public enum MapOutputsFrame {
    /// Updates per frame before a list is cut (`frames(request:updates:)`), well under the frame limit.
    public static let updatesPerFrame = 50_000

    /// The frame of `.mapOutputs(request:, updates)`, whatever its size (see `frames` for long lists).
    public static func frame(request: UInt64, updates: [MapOutputUpdate]) -> Frame {
        var names: [String: Int] = [:]
        var table: [String] = []
        var body = ByteBuffer()
        body.reserveCapacity(updates.count * 16)
        func name(_ text: String) {
            if let index = names[text] {
                body.writeVarint(UInt64(index))
            } else {
                names[text] = table.count
                body.writeVarint(UInt64(table.count))
                table.append(text)
            }
        }
        func blob(_ holder: BlobHolder, _ address: String, _ id: BlobID) {
            name(holder.name)
            name(address)
            name(id.run)
            switch id.kind {
            case .mapOutput(let job, let task, let attempt): body.writeNumbers(0, job, task, attempt)
            case .reduceOutput(let job, let partition, let attempt): body.writeNumbers(1, job, partition, attempt)
            case .keptMapOutput(let job, let task, let attempt): body.writeNumbers(2, job, task, attempt)
            case .keptReduceOutput(let job, let partition, let attempt): body.writeNumbers(3, job, partition, attempt)
            case .standardInput(let chunk): body.writeNumbers(4, chunk)
            }
        }
        for update in updates {
            body.writeVarint(UInt64(clamping: update.task))
            let location = update.location
            blob(location.holder, location.address, location.id)
            if let origin = location.origin {
                body.writeInteger(UInt8(1))
                blob(origin.holder, origin.address, origin.id)
            } else {
                body.writeInteger(UInt8(0))
            }
        }
        var payload = ByteBuffer()
        payload.reserveCapacity(body.readableBytes + table.reduce(16) { $0 + $1.utf8.count + 2 })
        payload.writeVarint(request)
        payload.writeVarint(UInt64(table.count))
        for text in table {
            payload.writeVarint(UInt64(text.utf8.count))
            payload.writeString(text)
        }
        payload.writeVarint(UInt64(updates.count))
        payload.writeBuffer(&body)
        return Frame(kind: .mapOutputs, payload: payload)
    }

    /// `updates` as frames that each fit the frame limit (one for any list a batch makes; a reduce attempt's
    /// starting list of every output known so far may take several).
    /// `perFrame` and `maxBytes` are for tests.
    public static func frames(
        request: UInt64, updates: [MapOutputUpdate], perFrame: Int = updatesPerFrame, maxBytes: Int = WireLimits.maxPayload
    ) -> [Frame] {
        var frames: [Frame] = []
        var pending = [updates[...]]
        while let next = pending.popLast() {
            let chunk = next.prefix(perFrame)
            if chunk.count < next.count { pending.append(next[chunk.endIndex...]) }
            let frame = Self.frame(request: request, updates: Array(chunk))
            if frame.payload.readableBytes > maxBytes && chunk.count > 1 {
                // Unusually long names: halve until each part fits (a single update always fits).
                let middle = chunk.startIndex + chunk.count / 2
                pending.append(chunk[middle...])
                pending.append(chunk[..<middle])
            } else {
                frames.append(frame)
            }
        }
        return frames
    }

    /// The message of a `mapOutputs` frame's payload.
    static func decode(_ payload: ByteBuffer) throws(WireError) -> ControlMessage {
        var reader = payload
        let request = try reader.readVarint()
        let nameCount = try reader.readCount()
        var table: [String] = []
        table.reserveCapacity(nameCount)
        for _ in 0..<nameCount {
            let length = try reader.readCount()
            guard let text = reader.readString(length: length) else { throw Self.malformed("a name is cut short") }
            table.append(text)
        }
        func name() throws(WireError) -> String {
            let index = try reader.readInt()
            guard index < table.count else { throw Self.malformed("a name index is past the table") }
            return table[index]
        }
        func blob() throws(WireError) -> (BlobHolder, String, BlobID) {
            let holder = BlobHolder(named: try name())
            let address = try name()
            let run = try name()
            guard BlobID.isValidRun(run) else { throw Self.malformed("a blob's run is not one path component") }
            guard let kind = reader.readInteger(as: UInt8.self) else { throw Self.malformed("a blob id is cut short") }
            let id: BlobID
            switch kind {
            case 0: id = .mapOutput(JobID(run: run, index: try reader.readInt()), task: try reader.readInt(), attempt: try reader.readInt())
            case 1:
                id = .reduceOutput(JobID(run: run, index: try reader.readInt()), partition: try reader.readInt(), attempt: try reader.readInt())
            case 2:
                id = .keptMapOutput(JobID(run: run, index: try reader.readInt()), task: try reader.readInt(), attempt: try reader.readInt())
            case 3:
                id = .keptReduceOutput(
                    JobID(run: run, index: try reader.readInt()), partition: try reader.readInt(), attempt: try reader.readInt())
            case 4: id = .standardInput(run: run, chunk: try reader.readInt())
            default: throw Self.malformed("unknown blob kind \(kind)")
            }
            return (holder, address, id)
        }
        let count = try reader.readCount()
        var updates: [MapOutputUpdate] = []
        // Each update takes at least 8 bytes, so a count the payload cannot hold reserves nothing absurd.
        updates.reserveCapacity(min(count, reader.readableBytes / 8))
        for _ in 0..<count {
            let task = try reader.readInt()
            let (holder, address, id) = try blob()
            var location = BlobLocation(holder: holder, address: address, id: id)
            switch reader.readInteger(as: UInt8.self) {
            case 0: break
            case 1:
                let (holder, address, id) = try blob()
                location.origin = BlobOrigin(holder: holder, address: address, id: id)
            default: throw Self.malformed("a location's origin flag is neither 0 nor 1")
            }
            updates.append(MapOutputUpdate(task: task, location: location))
        }
        guard reader.readableBytes == 0 else { throw Self.malformed("\(reader.readableBytes) bytes after the last update") }
        return .mapOutputs(request: request, updates)
    }

    static func malformed(_ what: String) -> WireError {
        .badMessage("malformed mapOutputs frame: \(what)")
    }
}

extension ByteBuffer {
    /// Appends `value` as an unsigned LEB128 varint (7 bits a byte, low bits first).
    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        writeInteger(UInt8(rest))
    }

    /// A kind byte, then each number as a varint (numbers in the protocol are never negative).
    fileprivate mutating func writeNumbers(_ kind: UInt8, _ numbers: Int...) {
        writeInteger(kind)
        for number in numbers { writeVarint(UInt64(clamping: number)) }
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes that fits in 64 bits.
    mutating func readVarint() throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw MapOutputsFrame.malformed("a number is cut short") }
            let bits = UInt64(byte & 0x7F)
            guard shift < 64, shift < 63 || bits <= 1 else { throw MapOutputsFrame.malformed("a number is too long") }
            value |= bits << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A varint that fits in `Int`.
    fileprivate mutating func readInt() throws(WireError) -> Int {
        let value = try readVarint()
        guard value <= UInt64(Int.max) else { throw MapOutputsFrame.malformed("a number is past \(Int.max)") }
        return Int(value)
    }

    /// A count or length: a varint no larger than the bytes left could hold (each item takes a byte).
    fileprivate mutating func readCount() throws(WireError) -> Int {
        let value = try readInt()
        guard value <= readableBytes else { throw MapOutputsFrame.malformed("a count of \(value) exceeds the frame") }
        return value
    }
}

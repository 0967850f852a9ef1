#if canImport(Glibc)
import MrshDataPath
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MrshPlan

/// Cuts the client's standard input into blobs of about `chunkSize` bytes, each ending at a line end
/// (except a line longer than a chunk), so that every chunk is a map split of whole lines.
///
/// With `csv`, each chunk ends at a CSV record end instead: a line end outside quotes. The chunker carries
/// the parity of the quotes read so far (`CSVScan`: a `\n` ends a record when the bytes before it hold an
/// even number of `"`), so a quoted field's line break never ends a chunk. The lines path is unchanged.
enum StandardInputChunker {
    static func chunk(
        descriptor: Int32, store: BlobStore, run: String, chunkSize: Int64, csv: Bool = false, holder: BlobHolder,
        address: String, cancel: CancellationFlag?
    ) throws -> [InputPlanner.SizedInput] {
        var chunks: [InputPlanner.SizedInput] = []
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        // bufferSize > 0, so baseAddress is non-nil.
        let base = buffer.baseAddress!
        var index = 0
        var id = BlobID.standardInput(run: run, chunk: 0)
        var temporary = ""
        var writer: BufferedWriter?
        var size: Int64 = 0
        defer { if writer != nil { FileIO.unlinkQuietly(temporary) } }

        func open() throws {
            id = BlobID.standardInput(run: run, chunk: index)
            temporary = try store.beginBlob(id)
            writer = try BufferedWriter(creating: temporary)
            size = 0
            index += 1
        }
        func close() throws {
            guard var current = writer.take() else { return }
            try current.close()
            try store.commitBlob(id, from: temporary)
            if size > 0 {
                chunks.append(.init(split: .blob(BlobLocation(holder: holder, address: address, id: id)), size: size))
            } else {
                store.remove(id)
            }
        }
        func append(_ start: Int, _ count: Int) throws {
            if count == 0 { return }
            try writer?.write(UnsafeRawBufferPointer(start: base + start, count: count))
            size += Int64(count)
        }

        try open()
        // CSV: whether the bytes read so far hold an odd number of quotes.
        var odd = false
        while true {
            try cancel?.check()
            let n = try sys("read", "standard input") { read(descriptor, base, bufferSize) }
            if n == 0 { break }
            if csv {
                var position = 0
                while position < n {
                    let room = Int(max(1, chunkSize - size))
                    // The last record end within the room, else the first one past it.
                    var cut = -1
                    var i = position
                    while i < n {
                        let b = base.load(fromByteOffset: i, as: UInt8.self)
                        if b == 0x22 {
                            odd.toggle()
                        } else if b == 0x0A && !odd {
                            if i < position + room {
                                cut = i
                            } else {
                                if cut < 0 { cut = i }
                                break
                            }
                        }
                        i += 1
                    }
                    if cut < 0 || (i == n && n - position < room) {
                        // No record end, or all of the rest fits: keep it all for this chunk.
                        try append(position, n - position)
                        break
                    }
                    // The parity at `cut` is even; recount what follows it on the next pass.
                    odd = false
                    try append(position, cut + 1 - position)
                    try close()
                    try open()
                    position = cut + 1
                }
                continue
            }
            var position = 0
            while position < n {
                let room = Int(max(1, chunkSize - size))
                if n - position < room {
                    try append(position, n - position)
                    break
                }
                // Cut after the last line end within the room; else after the first one past it.
                var cut = position + room - 1
                while cut >= position && base.load(fromByteOffset: cut, as: UInt8.self) != 0x0A { cut -= 1 }
                if cut < position {
                    cut = position + room
                    while cut < n && base.load(fromByteOffset: cut, as: UInt8.self) != 0x0A { cut += 1 }
                    if cut == n {
                        try append(position, n - position)
                        break
                    }
                }
                try append(position, cut + 1 - position)
                try close()
                try open()
                position = cut + 1
            }
        }
        try close()
        return chunks
    }
}

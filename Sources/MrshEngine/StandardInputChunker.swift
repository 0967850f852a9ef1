#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MrshPlan

/// Cuts the client's standard input into blobs of about `chunkSize` bytes, each ending at a line end
/// (except a line longer than a chunk), so that every chunk is a map split of whole lines.
enum StandardInputChunker {
    static func chunk(
        descriptor: Int32, store: BlobStore, run: String, chunkSize: Int64, holder: String, address: String,
        cancel: CancellationFlag?
    ) throws -> [InputPlanner.SizedInput] {
        var chunks: [InputPlanner.SizedInput] = []
        let bufferSize = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        // bufferSize > 0, so baseAddress is non-nil.
        let base = buffer.baseAddress!
        var index = 0
        var id = ""
        var temporary = ""
        var writer: BufferedWriter?
        var size: Int64 = 0
        defer { if writer != nil { FileIO.unlinkQuietly(temporary) } }

        func open() throws {
            id = "\(run)/stdin/chunk-\(index)"
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
        while true {
            try cancel?.check()
            let n = try sys("read", "standard input") { read(descriptor, base, bufferSize) }
            if n == 0 { break }
            if size + Int64(n) < chunkSize {
                try append(0, n)
                continue
            }
            var last = n - 1
            while last >= 0 && base.load(fromByteOffset: last, as: UInt8.self) != 0x0A { last -= 1 }
            if last >= 0 {
                let cut = last + 1
                try append(0, cut)
                try close()
                try open()
                try append(cut, n - cut)
            } else {
                try append(0, n)
            }
        }
        try close()
        return chunks
    }
}

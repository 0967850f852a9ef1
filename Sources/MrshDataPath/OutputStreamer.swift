import MrshPlan

/// Streams a plan's final parts to the client's sink, in chunks of whole lines: concatenated in part
/// order, or, for hash-partitioned parts (each sorted by key), merged by key into one sorted stream;
/// `limit` keeps the first records.
package struct OutputStreamer {
    /// How parts are ordered among themselves.
    package enum Merge: Equatable {
        case concatenate
        /// Merge by the key of each line (the kinds that group by key).
        case byKey
        /// Merge by whole lines (`.distinct`).
        case byRecord
        /// Merge by the first n fields of each line (`reduce ... by` with n key fields).
        case byFields(Int)
    }

    private var chunk: [UInt8] = []
    private var left: Int
    package private(set) var records: Int64 = 0
    private static let chunkSize = 1 << 20

    package init(limit: Int?) {
        left = limit ?? Int.max
        chunk.reserveCapacity(OutputStreamer.chunkSize + 4096)
    }

    /// Streams `parts` (local byte ranges) into `sink`.
    package mutating func stream<Sink: RecordSink>(
        _ parts: [LocalBytes], merge: Merge, into sink: Sink, cancel: () throws -> Void
    ) async throws {
        let cursors = try parts.filter { !$0.range.isEmpty }.map { try LineCursor(path: $0.path, range: $0.range) }
        switch merge {
        case .concatenate:
            for cursor in cursors {
                while left > 0, try cursor.next() {
                    emit(cursor.current)
                    if chunk.count >= OutputStreamer.chunkSize { try await flush(into: sink) }
                    if records & 0xFFFF == 0 { try cancel() }
                }
            }
        case .byKey, .byRecord, .byFields:
            var live: [LineCursor] = []
            for cursor in cursors where try cursor.next() { live.append(cursor) }
            while left > 0 && !live.isEmpty {
                // Linear choice of the smallest: parts are few (R), lines many.
                var best = 0
                for i in 1..<live.count where OutputStreamer.compare(live[i].current, live[best].current, merge) < 0 {
                    best = i
                }
                emit(live[best].current)
                if try !live[best].next() { live.remove(at: best) }
                if chunk.count >= OutputStreamer.chunkSize { try await flush(into: sink) }
                if records & 0xFFFF == 0 { try cancel() }
            }
        }
        try await flush(into: sink)
    }

    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, _ merge: Merge) -> Int {
        switch merge {
        case .byKey: return Bytes.compare(Bytes.splitKey(a).key, Bytes.splitKey(b).key)
        case .byFields(let n): return Bytes.compare(Bytes.leadingFields(a, n), Bytes.leadingFields(b, n))
        case .byRecord, .concatenate: return Bytes.compare(a, b)
        }
    }

    @inline(__always)
    private mutating func emit(_ line: UnsafeRawBufferPointer) {
        chunk.append(contentsOf: line)
        chunk.append(0x0A)
        records += 1
        left -= 1
    }

    /// Hands the chunk to the sink once it can take it (`awaitCapacity`: a slow client slows the stream).
    private mutating func flush<Sink: RecordSink>(into sink: Sink) async throws {
        if chunk.isEmpty { return }
        try await sink.awaitCapacity()
        try chunk.withUnsafeBytes { try sink.write($0) }
        chunk.removeAll(keepingCapacity: true)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file format of a map-output blob (and of a map task's spilled sorted runs).
///
/// ```
/// partition 0 entries | partition 1 entries | ... | partition R-1 entries
/// index: R times (offset: UInt64 LE, length: UInt64 LE)
/// R: UInt64 LE
/// magic: "MRSHMO01" (8 bytes)
/// ```
/// An entry is `varint(a.count) varint(b.count) a b` (LEB128 varints); within a partition entries are in
/// the shuffle's order (`ShuffleLayout`). A reader of partition p needs only bytes `offset ..< offset +
/// length` of the blob, which is what a shuffle server sends. A map-only job's output blob is instead plain
/// newline-terminated lines, without an index.
public enum MapOutputFormat {
    public static let magic: [UInt8] = Array("MRSHMO01".utf8)

    /// Reads the partition ranges of a map-output file.
    public static func readIndex(path: String) throws -> [Range<Int64>] {
        let fd = try FileIO.openForReading(path)
        defer { FileIO.closeQuietly(fd) }
        let size = try FileIO.size(ofDescriptor: fd, path: path)
        guard size >= 16 else { throw EngineError.failed("map output '\(path)' is truncated") }
        var trailer = [UInt8](repeating: 0, count: 16)
        try readExactly(fd, &trailer, at: size - 16, path: path)
        guard Array(trailer[8..<16]) == magic else { throw EngineError.failed("map output '\(path)' is corrupt") }
        let count = trailer.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let indexSize = Int64(count) * 16
        guard count >= 0, count < 1 << 24, indexSize + 16 <= size else {
            throw EngineError.failed("map output '\(path)' has a corrupt index")
        }
        var index = [UInt8](repeating: 0, count: Int(indexSize))
        try readExactly(fd, &index, at: size - 16 - indexSize, path: path)
        var ranges: [Range<Int64>] = []
        ranges.reserveCapacity(count)
        try index.withUnsafeBytes { raw in
            for i in 0..<count {
                let offset = Int64(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self)))
                let length = Int64(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 16 + 8, as: UInt64.self)))
                guard offset >= 0, length >= 0, offset + length <= size - 16 - indexSize else {
                    throw EngineError.failed("map output '\(path)' has a corrupt index")
                }
                ranges.append(offset..<(offset + length))
            }
        }
        return ranges
    }

    /// Writes the index and trailer after the partitions (`ranges` are the partitions' byte ranges).
    static func writeIndex(_ ranges: [Range<Int64>], to writer: inout BufferedWriter) throws {
        for range in ranges {
            try writer.writeUInt64(UInt64(range.lowerBound))
            try writer.writeUInt64(UInt64(range.count))
        }
        try writer.writeUInt64(UInt64(ranges.count))
        try writer.write(magic)
    }

    private static func readExactly(_ fd: Int32, _ bytes: inout [UInt8], at offset: Int64, path: String) throws {
        var done = 0
        let total = bytes.count
        try bytes.withUnsafeMutableBytes { raw in
            while done < total {
                // total > done >= 0, so the buffer is not empty and baseAddress is non-nil.
                let n = try FileIO.read(fd, into: raw.baseAddress! + done, count: total - done, at: offset + Int64(done), path: path)
                if n == 0 { throw EngineError.failed("map output '\(path)' is truncated") }
                done += n
            }
        }
    }
}

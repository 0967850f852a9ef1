/// `trim`: drops leading and trailing spaces, tabs and carriage returns (a slice, no copy).
final class TrimStage: RecordStage {
    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        var start = 0
        var end = record.count
        while start < end && Self.isBlank(record[start]) { start += 1 }
        while end > start && Self.isBlank(record[end - 1]) { end -= 1 }
        try next(UnsafeRawBufferPointer(rebasing: record[start..<end]))
    }

    @inline(__always)
    static func isBlank(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0D
    }
}

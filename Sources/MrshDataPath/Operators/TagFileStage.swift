/// `tag file`: appends TAB and the input file's name.
final class TagFileStage: RecordStage {
    private let out = ScratchBuffer()

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        out.removeAll()
        _ = out.reserve(record.count + 1 + file.count)
        out.append(record)
        out.append(0x09)
        out.append(file)
        try next(out.bytes)
    }
}

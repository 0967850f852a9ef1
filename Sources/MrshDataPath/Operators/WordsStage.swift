/// `words`: every word of the record becomes a record (slices of the input, no copy).
final class WordsStage: RecordStage {
    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try WordScanner.forEachWord(in: record, next)
    }
}

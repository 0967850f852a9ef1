/// One compiled record operator inside a fused `RecordPipeline`.
///
/// A stage receives one input record and passes zero or more output records to `next`. Outputs are
/// either slices of the input (grep, trim, words, extract) or bytes in the stage's own `ScratchBuffer`
/// (case mapping, split, pick, tagFile); in both cases they are valid only during the `next` call.
/// Because every stage owns its buffer, the input of stage i stays intact while stages after i run.
protocol RecordStage: AnyObject {
    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows
}

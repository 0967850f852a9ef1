import MrshPlan

/// Stand-in until the real operators land: identity, and ASCII-only `words`. Other ops throw.
public struct RecordPipeline {
    private let ops: [RecordOp]

    public init(_ ops: [RecordOp]) throws {
        for op in ops where op != .words {
            throw EngineError.invalid("operator \(op) is not available yet")
        }
        self.ops = ops
    }

    public var isIdentity: Bool { ops.isEmpty }

    public mutating func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try run(record, stage: 0, emit: emit)
    }

    private func run(_ record: UnsafeRawBufferPointer, stage: Int, emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        if stage == ops.count { return try emit(record) }
        var i = 0
        let n = record.count
        while i < n {
            while i < n && !isLetter(record[i]) { i += 1 }
            let start = i
            while i < n && isLetter(record[i]) { i += 1 }
            if i > start {
                try run(UnsafeRawBufferPointer(rebasing: record[start..<i]), stage: stage + 1, emit: emit)
            }
        }
    }

    @inline(__always)
    private func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}

import MrshPlan

/// The reduce side of one partition: consumes the merged entry stream (in shuffle order) and writes the
/// part's records — one `key TAB result` per key for `.aggregate`, records in order for `.sort` and
/// `.gather` (keeping `limit`), each distinct record once for `.distinct`, the bare total for `.count` —
/// through the job's reduce operators. Memory: one key and its result at a time.
final class PartReducer {
    private let layout: ShuffleLayout
    private var pipeline: RecordPipeline
    private let output: LineOutput
    private let cancel: CancellationFlag?
    private var line: [UInt8] = []
    private var groupKey: [UInt8] = []
    private var previousValue: [UInt8] = []
    private(set) var entriesIn: Int64 = 0

    init(layout: ShuffleLayout, reduceOps: [RecordOp], output: LineOutput, cancel: CancellationFlag?) throws {
        self.layout = layout
        self.pipeline = try RecordPipeline(reduceOps)
        self.output = output
        self.cancel = cancel
    }

    func reduce(_ merger: EntryMerger) throws {
        switch layout.shuffle {
        case .aggregate(let aggregate):
            try reduceGroups(merger, aggregate)
        case .sort(_, let limit), .gather(let limit):
            var left = limit ?? Int.max
            while left > 0, let top = merger.top {
                try emit(top.a)
                left -= 1
                try advance(merger)
            }
        case .distinct:
            var first = true
            while let top = merger.top {
                if first || !groupKey.withUnsafeBytes({ Bytes.equal($0, top.a) }) {
                    try emit(top.a)
                    groupKey.removeAll(keepingCapacity: true)
                    groupKey.append(contentsOf: top.a)
                    first = false
                }
                try advance(merger)
            }
        case .count:
            var total: Int64 = 0
            while let top = merger.top {
                total &+= PartialAggregate.decode(.count, top.b).count
                try advance(merger)
            }
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: String(total).utf8)
            try emitLine()
        }
    }

    private func reduceGroups(_ merger: EntryMerger, _ aggregate: Aggregate) throws {
        while let top = merger.top {
            groupKey.removeAll(keepingCapacity: true)
            groupKey.append(contentsOf: top.a)
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: top.a)
            line.append(0x09)
            switch aggregate {
            case .collect, .distinct:
                var firstValue = true
                previousValue.removeAll(keepingCapacity: true)
                while let entry = merger.top, groupKey.withUnsafeBytes({ Bytes.equal($0, entry.a) }) {
                    let duplicate = aggregate == .distinct && !firstValue
                        && previousValue.withUnsafeBytes { Bytes.equal($0, entry.b) }
                    if !duplicate {
                        if !firstValue { line.append(0x2C) }
                        line.append(contentsOf: entry.b)
                        if aggregate == .distinct {
                            previousValue.removeAll(keepingCapacity: true)
                            previousValue.append(contentsOf: entry.b)
                        }
                        firstValue = false
                    }
                    try advance(merger)
                }
            case .count, .sum, .min, .max, .avg:
                var partial = PartialAggregate.decode(aggregate, top.b)
                try advance(merger)
                while let entry = merger.top, groupKey.withUnsafeBytes({ Bytes.equal($0, entry.a) }) {
                    partial.merge(aggregate, PartialAggregate.decode(aggregate, entry.b))
                    try advance(merger)
                }
                PartReducer.appendResult(partial, aggregate, to: &line)
            }
            try emitLine()
        }
    }

    /// Appends the result text; integers without a String.
    private static func appendResult(_ partial: PartialAggregate, _ aggregate: Aggregate, to line: inout [UInt8]) {
        if aggregate == .count {
            appendInteger(partial.count, to: &line)
        } else if aggregate != .avg, case .integer(let v) = partial.number {
            appendInteger(v, to: &line)
        } else {
            line.append(contentsOf: partial.result(aggregate).utf8)
        }
    }

    static func appendInteger(_ value: Int64, to line: inout [UInt8]) {
        if value == 0 {
            line.append(0x30)
            return
        }
        var magnitude = value.magnitude
        if value < 0 { line.append(0x2D) }
        let start = line.count
        while magnitude > 0 {
            line.append(0x30 + UInt8(magnitude % 10))
            magnitude /= 10
        }
        line[start...].reverse()
    }

    @inline(__always)
    private func advance(_ merger: EntryMerger) throws {
        entriesIn += 1
        if entriesIn & 0xFFFF == 0 { try cancel?.check() }
        try merger.advanceTop()
    }

    private func emitLine() throws {
        try line.withUnsafeBytes { try emit($0) }
    }

    @inline(__always)
    private func emit(_ record: UnsafeRawBufferPointer) throws {
        if pipeline.isIdentity {
            try output.writeLine(record)
        } else {
            let output = self.output
            try pipeline.process(record, file: Bytes.empty) { try output.writeLine($0) }
        }
    }
}

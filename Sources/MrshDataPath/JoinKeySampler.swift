import MrshPlan

/// Samples the join keys of both sides of a `.join` job before it runs, for the coordinator's skew
/// handling (`JoinSkew` in MrshControl): reads records from the start of up to 32 splits spread over each
/// side's input (about `sampleSize` records per side), runs them through their source's map operators
/// (which end with `.prependJoinKey`, so it counts the keys the shuffle will see) and counts each key.
/// Keys the stage makes unmatchable (a left record's empty key, starting with 0x01) are counted in the
/// side's total but not as keys.
package enum JoinKeySampler {
    /// The keys of one side's sample.
    package struct Side: Sendable, Equatable {
        /// Sampled records with each key.
        package var counts: [[UInt8]: Int] = [:]
        /// Records sampled.
        package var records = 0
        package init(counts: [[UInt8]: Int] = [:], records: Int = 0) {
            self.counts = counts
            self.records = records
        }
    }

    /// `tasks`: the job's map tasks, each with its source. Returns the right and the left side's samples.
    package static func sample(
        spec: JobSpec, rightSources: Int, tasks: [(source: Int, splits: [InputSplit])], sampleSize: Int,
        fetcher: any BlobFetcher, store: BlobStore
    ) async throws -> (right: Side, left: Side) {
        var chosen: [(source: Int, split: InputSplit)] = []
        var isRight: [Bool] = []
        for right in [true, false] {
            let splits = tasks.filter { ($0.source < rightSources) == right }
                .flatMap { task in task.splits.map { (source: task.source, split: $0) } }
            let picks = min(32, splits.count)
            for i in 0..<picks {
                chosen.append(splits[i * splits.count / picks])
                isRight.append(right)
            }
        }
        guard !chosen.isEmpty else { return (Side(), Side()) }
        let rightPicks = isRight.filter { $0 }.count
        let leftPicks = chosen.count - rightPicks
        let scratch = try store.temporaryDirectory("join-sample")
        defer { FileIO.removeTree(scratch) }
        let inputs = try await TaskInput.resolve(chosen.map(\.split), fetcher: fetcher, scratch: scratch)
        defer { TaskInput.removeCopies(inputs) }
        let operators = spec.sources.map(\.mapOps)
        let formats = spec.sources.map(\.format)
        let sourceOfInput = chosen.map(\.source)
        let inputIsRight = isRight
        return try await Offload.run { cancel in
            var pipelines = try operators.map { try RecordPipeline($0) }
            var sides = (right: Side(), left: Side())
            for (index, input) in inputs.enumerated() {
                let source = sourceOfInput[index]
                let right = inputIsRight[index]
                let perSplit = max(1, sampleSize / max(1, right ? rightPicks : leftPicks))
                var reader = try LineReader(path: input.path, offset: input.offset, length: input.length, bufferSize: 1 << 16)
                var taken = 0
                var side = Side()
                let name = Array(input.name.utf8)
                try name.withUnsafeBytes { file in
                    let sample: (UnsafeRawBufferPointer) -> Bool = { line in
                        pipelines[source].process(line, file: file) { record in
                            guard taken < perSplit else { return }
                            taken += 1
                            side.records += 1
                            let key = Bytes.splitKey(record).key
                            if key.first != JoinKeyEncoding.marker { side.counts[Array(key), default: 0] += 1 }
                        }
                        return taken < perSplit
                    }
                    if case .csv(let skipHeader) = formats[source] {
                        try reader.forEachCSVRecord(skipFirst: skipHeader && input.startsInput, cancel: cancel, sample)
                    } else {
                        try reader.forEachLine(cancel: cancel, sample)
                    }
                }
                if right {
                    sides.right.records += side.records
                    sides.right.counts.merge(side.counts, uniquingKeysWith: +)
                } else {
                    sides.left.records += side.records
                    sides.left.counts.merge(side.counts, uniquingKeysWith: +)
                }
            }
            return sides
        }
    }
}

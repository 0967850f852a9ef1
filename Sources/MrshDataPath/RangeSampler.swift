import MrshPlan

/// Chooses range-partition boundaries for a job whose kind partitions by ranges (`.sort`, `.orderBy`,
/// `.topPerGroup`) before it runs: reads records from the start of up to 32 splits spread over the input
/// (about `sampleSize` in all), runs them through the map operators (so the keys `.prependSortKey`
/// prepends are what it samples), sorts their partition keys in the shuffle's order and takes `partitions - 1` evenly spaced
/// keys, dropping duplicates (so there may be fewer partitions than asked for). Keys longer than a share of
/// 1 MiB are not candidates, so the boundaries fit in a task's spec whatever the records' length.
package enum RangeSampler {
    /// `tasks`: the job's map tasks, each with the source (side) whose operators run on its splits.
    package static func boundaries(
        spec: JobSpec, order: SortOrder, tasks: [(source: Int, splits: [InputSplit])], partitions: Int,
        sampleSize: Int, fetcher: any BlobFetcher, store: BlobStore
    ) async throws -> [[UInt8]] {
        guard partitions > 1 else { return [] }
        // The sampler runs on the coordinator, which runs no `stream` command: such a job gets one range.
        if spec.sources.contains(where: { $0.mapOps.contains { if case .stream = $0 { true } else { false } } }) {
            return []
        }
        let splits = tasks.flatMap { task in task.splits.map { (source: task.source, split: $0) } }
        guard !splits.isEmpty else { return [] }
        let picks = min(32, splits.count)
        let chosen = (0..<picks).map { splits[$0 * splits.count / picks] }
        let scratch = try store.temporaryDirectory("sample")
        defer { FileIO.removeTree(scratch) }
        let inputs = try await TaskInput.resolve(chosen.map(\.split), fetcher: fetcher, scratch: scratch)
        defer { TaskInput.removeCopies(inputs) }
        let perSplit = max(1, sampleSize / picks)
        // Boundaries travel in every map task's spec: a sampled key longer than its share of 1 MiB is not a
        // candidate (any sampled key is a correct boundary; skipping some only makes ranges less even).
        let longestBoundary = max(256, (1 << 20) / partitions)
        let operators = spec.sources.map(\.mapOps)
        let formats = spec.sources.map(\.format)
        let sourceOfInput = chosen.map(\.source)
        return try await Offload.run { cancel in
            var pipelines = try operators.map { try RecordPipeline($0) }
            var keys: [[UInt8]] = []
            for (input, source) in zip(inputs, sourceOfInput) {
                var reader = try LineReader(path: input.path, offset: input.offset, length: input.length, bufferSize: 1 << 16)
                var taken = 0
                let name = Array(input.name.utf8)
                try name.withUnsafeBytes { file in
                    let sample: (UnsafeRawBufferPointer) -> Bool = { line in
                        pipelines[source].process(line, file: file) { record in
                            if taken < perSplit {
                                let key = RecordOrdering.partitionKey(order, record)
                                if key.count <= longestBoundary { keys.append(Array(key)) }
                                taken += 1
                            }
                        }
                        return taken < perSplit
                    }
                    if case .csv(let skipHeader) = formats[source] {
                        try reader.forEachCSVRecord(skipFirst: skipHeader && input.startsInput, cancel: cancel, sample)
                    } else {
                        try reader.forEachLine(cancel: cancel, sample)
                    }
                }
            }
            return choose(keys, order: order, partitions: partitions)
        }
    }

    /// `partitions - 1` evenly spaced distinct keys of the sorted sample.
    static func choose(_ sample: [[UInt8]], order: SortOrder, partitions: Int) -> [[UInt8]] {
        guard partitions > 1, !sample.isEmpty else { return [] }
        let sorted = sample.sorted { x, y in
            x.withUnsafeBytes { a in y.withUnsafeBytes { b in RecordOrdering.comparePartitionKeys(order, a, b) < 0 } }
        }
        var boundaries: [[UInt8]] = []
        for i in 1..<partitions {
            let candidate = sorted[min(sorted.count - 1, i * sorted.count / partitions)]
            if let last = boundaries.last {
                let same = last.withUnsafeBytes { a in
                    candidate.withUnsafeBytes { b in RecordOrdering.comparePartitionKeys(order, a, b) == 0 }
                }
                if same { continue }
            }
            boundaries.append(candidate)
        }
        // A boundary equal to the smallest key would leave partition 0 empty: harmless but useless.
        if let first = boundaries.first, let smallest = sorted.first {
            let same = first.withUnsafeBytes { a in
                smallest.withUnsafeBytes { b in RecordOrdering.comparePartitionKeys(order, a, b) == 0 }
            }
            if same { boundaries.removeFirst() }
        }
        return boundaries
    }
}

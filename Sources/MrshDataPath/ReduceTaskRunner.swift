import MrshPlan

/// Runs one reduce task attempt on this host (worker side): fetches its partition of every map output
/// through the fetcher as the locations arrive (the ones in the spec first, then those of the feed, while
/// other map tasks still run), then k-way merges the sorted streams, reduces, applies the reduce
/// operators and writes the part (to the destination file, or as a blob of `store`).
///
/// A map task's output is copied once: later locations of a task already copied are ignored. When a fetch
/// fails and a newer location of that task has arrived meanwhile (the task ran again elsewhere), the newer
/// one is fetched instead; otherwise the failure ends the attempt (the coordinator recomputes the output).
///
/// The merge streams (bounded buffers per input), in map task order; more than `MapCollector.fanIn`
/// inputs are merged in several passes. Fetched temporary copies are deleted after use.
public enum ReduceTaskRunner {
    /// `feed` nil: `spec.mapOutputs` must be complete.
    public static func run(
        _ spec: ReduceTaskSpec, feed: MapOutputFeed? = nil, store: BlobStore, fetcher: any BlobFetcher,
        holder: BlobHolder = .local, address: String = "", badRecords: BadRecordPolicy = .fail,
        stream: StreamContext = StreamContext(allowed: true)
    ) async throws -> ReduceTaskResult {
        let policy = spec.skipBadRecords.map { $0 ? BadRecordPolicy.skip : .fail } ?? badRecords
        let started = ContinuousClock.now
        let log = TaskLog.current
        log?.add("reduce task \(spec.partition) of job \(spec.job.index), attempt \(spec.attempt): its partition of "
            + "\(spec.mapTaskCount) map outputs (\(spec.mapOutputs.count) in the task, the others as they are announced)")
        let scratch = try store.temporaryDirectory("fetch")
        defer { FileIO.removeTree(scratch) }
        var copies = MapOutputCopies(taskCount: spec.mapTaskCount)
        defer { for bytes in copies.fetched.compactMap({ $0 }) where bytes.isTemporaryCopy { FileIO.unlinkQuietly(bytes.path) } }
        copies.receive(zip(spec.mapOutputTasks, spec.mapOutputs).map { MapOutputUpdate(task: $0, location: $1) })
        while !copies.isComplete {
            try Task.checkCancellation()
            guard let (task, location) = copies.nextToFetch() else {
                guard let feed else {
                    throw EngineError.failed("reduce task \(spec.partition) of job \(spec.job.index) lacks map outputs")
                }
                copies.receive(try await feed.next())
                continue
            }
            do {
                guard let feed else {
                    copies.copied(task, try await fetcher.fetch(location, partition: spec.partition, scratch: scratch))
                    continue
                }
                let partition = spec.partition
                let (outcome, arrived) = try await SupersedableFetch.run(task: task, location: location, feed: feed) {
                    try await fetcher.fetch(location, partition: partition, scratch: scratch)
                }
                copies.receive(arrived)
                switch outcome {
                case .fetched(let bytes):
                    copies.copied(task, bytes)
                case .superseded:
                    // `arrived` holds the newer location, so the task is queued again.
                    log?.add("stopped fetching the output of map task \(task) from \(location.holder): it ran again, fetching the new one")
                case .failed(let error):
                    throw error
                }
            } catch {
                if error is CancellationError { throw error }
                if let feed { copies.receive(feed.takePending()) }
                // A newer location of the task arrived (it ran again elsewhere): fetch that one instead.
                guard copies.hasNewerLocation(task, than: location) else {
                    log?.add("cannot fetch the output of map task \(task) from \(location.holder): \(error)")
                    throw error
                }
                log?.add("cannot fetch the output of map task \(task) from \(location.holder) (\(error)): it ran again, fetching the new one")
            }
        }
        log?.add("fetched \(spec.mapTaskCount) map outputs; merging")
        // Map task order, each with the source (side) the task read.
        let sources = copies.fetched.enumerated().compactMap { task, bytes in
            bytes.map { (bytes: $0, side: spec.source(ofTask: task)) }
        }
        let destination: String
        let id = BlobID.reduceOutput(spec.job, partition: spec.partition, attempt: spec.attempt)
        switch spec.destination {
        case .file(let path): destination = path
        case .blob: destination = try store.beginBlob(id)
        }
        var counters = try await Offload.run { cancel in
            var context = stream.logging(to: log)
            context.directory = context.directory ?? scratch
            context.cancel = cancel
            return try runBlocking(
                spec, sources: sources, destination: destination, store: store, badRecords: policy, stream: context,
                cancel: cancel)
        }
        counters.taskNanoseconds = TaskClock.nanoseconds(since: started)
        log?.add(TaskLog.describe(counters, output: "records"))
        switch spec.destination {
        case .file(let path):
            return ReduceTaskResult(partition: spec.partition, attempt: spec.attempt, output: .file(path: path), counters: counters)
        case .blob:
            try store.commitBlob(id, from: destination)
            return ReduceTaskResult(
                partition: spec.partition, attempt: spec.attempt,
                output: .blob(store.location(id, holder: holder, address: address)), counters: counters)
        }
    }

    /// `sources`: the fetched partition of every map output, in map task order, with the source (side) of
    /// its map task.
    static func runBlocking(
        _ spec: ReduceTaskSpec, sources: [(bytes: LocalBytes, side: Int)], destination: String, store: BlobStore,
        badRecords: BadRecordPolicy = .fail, stream: StreamContext? = nil, cancel: CancellationFlag?
    ) throws -> Counters {
        guard let shuffle = spec.spec.shuffle else {
            throw EngineError.failed("reduce task for job \(spec.job.index), which has no shuffle")
        }
        var succeeded = false
        defer { if !succeeded { FileIO.unlinkQuietly(destination) } }
        let layout = ShuffleLayout(shuffle)
        var counters = Counters()
        var inputs = sources.filter { !$0.bytes.range.isEmpty }.map { (path: $0.bytes.path, range: $0.bytes.range, side: $0.side) }
        counters.bytesIn = sources.reduce(0) { $0 + Int64($1.bytes.range.count) }
        var intermediates: [String] = []
        defer { for path in intermediates { FileIO.unlinkQuietly(path) } }
        // Too many inputs to open at once: merge groups of neighbours into sorted runs first (combining as the
        // map side), each run in its group's place, so that ties still resolve in map task order. A group
        // never mixes sources, so its run keeps one side.
        while inputs.count > MapCollector.fanIn {
            try cancel?.check()
            // The first two neighbours of one side start the group (none: nothing can be merged further).
            guard let start = inputs.indices.dropLast().first(where: { inputs[$0].side == inputs[$0 + 1].side })
            else { break }
            let groupSide = inputs[start].side
            let count = inputs[start...].prefix(MapCollector.fanIn).prefix { $0.side == groupSide }.count
            let group = Array(inputs[start..<(start + count)])
            let path = try store.temporaryPath("reduce-merge")
            intermediates.append(path)
            let writer = try RunWriter(path: path, layout: layout, partitionCount: 1)
            let merger = try EntryMerger(readers: try openReaders(group, budget: spec.memoryBudget), layout: layout)
            while let top = merger.top {
                try writer.add(partition: 0, a: top.a, b: top.b)
                try merger.advanceTop()
            }
            let sizes = try writer.finish()
            inputs.replaceSubrange(start..<(start + count), with: [(path: path, range: 0..<sizes[0], side: groupSide)])
        }
        let merger = try EntryMerger(
            readers: try openReaders(inputs, budget: spec.memoryBudget), layout: layout, sides: inputs.map(\.side))
        let output = LineOutput(try BufferedWriter(creating: destination))
        let reducer = try PartReducer(
            layout: layout, reduceOps: spec.spec.reduceOps, output: output, badRecords: badRecords, stream: stream,
            cancel: cancel, memoryBudget: spec.memoryBudget, temporaryPath: { try store.temporaryPath("join-spill") })
        try reducer.reduce(merger)
        try reducer.finish()
        try output.close()
        counters.recordsIn = reducer.entriesIn
        counters.skippedRecords = reducer.skippedRecords
        reducer.addCounts(to: &counters)
        counters.recordsOut = output.lines
        counters.bytesOut = output.bytes
        succeeded = true
        return counters
    }

    /// Read buffers of at most 128 KiB: the merge takes each entry soon after `pread` brought it into the
    /// cache (32 inputs of 1 MiB each overflowed it and made copying the records out of them cost misses).
    private static func openReaders(_ inputs: [(path: String, range: Range<Int64>, side: Int)], budget: Int) throws -> [EntryReader] {
        let size = max(1 << 14, min(1 << 17, budget / max(1, inputs.count)))
        return try inputs.map { try EntryReader(path: $0.path, range: $0.range, bufferSize: size) }
    }
}

import MrshPlan

/// What a reduce attempt knows about the map outputs it needs: the newest location of each map task,
/// the tasks to fetch next (in arrival order) and the bytes already copied, by map task.
struct MapOutputCopies {
    private(set) var fetched: [LocalBytes?]
    private var latest: [BlobLocation?]
    private var queue: [Int] = []
    private var queued: Set<Int> = []
    private var copiedCount = 0

    init(taskCount: Int) {
        fetched = Array(repeating: nil, count: max(0, taskCount))
        latest = Array(repeating: nil, count: max(0, taskCount))
    }

    /// True when every map task's output was copied.
    var isComplete: Bool { copiedCount == fetched.count }

    /// Takes new locations; those of tasks already copied, or out of range, are ignored.
    mutating func receive(_ updates: [MapOutputUpdate]) {
        for update in updates where update.task >= 0 && update.task < fetched.count && fetched[update.task] == nil {
            latest[update.task] = update.location
            if queued.insert(update.task).inserted { queue.append(update.task) }
        }
    }

    /// The next task to fetch and its newest location; nil when none is waiting.
    mutating func nextToFetch() -> (Int, BlobLocation)? {
        while !queue.isEmpty {
            let task = queue.removeFirst()
            queued.remove(task)
            if fetched[task] == nil, let location = latest[task] { return (task, location) }
        }
        return nil
    }

    /// True (and the task queued again) when a location other than `location` arrived for `task`.
    mutating func hasNewerLocation(_ task: Int, than location: BlobLocation) -> Bool {
        guard let newest = latest[task], newest != location else { return false }
        if queued.insert(task).inserted { queue.append(task) }
        return true
    }

    mutating func copied(_ task: Int, _ bytes: LocalBytes) {
        guard fetched[task] == nil else { return }
        fetched[task] = bytes
        copiedCount += 1
    }
}

/// Runs one job at a time on a coordinator; later submissions wait their turn in order.
actor JobQueue {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Waits for the turn; `onQueued` learns the position when the job has to wait.
    func acquire(onQueued: @Sendable (Int) -> Void) async {
        guard busy else {
            busy = true
            return
        }
        onQueued(waiting.count + 1)
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}

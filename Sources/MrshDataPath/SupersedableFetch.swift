import MrshPlan
import Synchronization

/// One fetch of a map output by a reduce attempt, made while the attempt's feed is watched. When a newer
/// location of the same map task arrives (the task ran again elsewhere, as it does once the coordinator has
/// declared the old holder lost), the fetch from the old holder is abandoned at once: the reducer does not
/// wait out that fetch's connect and read timeouts and its retries (a worker stopped for good used to cost
/// three of them). Every update the watch took from the feed is handed back with the outcome.
enum SupersedableFetch {
    enum Outcome: Sendable {
        case fetched(LocalBytes)
        /// A newer location of the task arrived before the fetch ended; the fetch was cancelled.
        case superseded
        /// The fetch failed (after its own retries).
        case failed(any Error)
    }

    /// Fetches with `fetch`, giving way to a location of `task` other than `location` published on `feed`.
    /// Returns the outcome and the updates taken from the feed meanwhile (to be given to `MapOutputCopies`).
    /// Throws only `CancellationError`, when the calling task is cancelled.
    static func run(
        task: Int, location: BlobLocation, feed: MapOutputFeed,
        fetch: @escaping @Sendable () async throws -> LocalBytes
    ) async throws -> (Outcome, [MapOutputUpdate]) {
        let race = FirstResult<Outcome>()
        let inbox = UpdateInbox()
        let download = Task {
            do {
                let bytes = try await fetch()
                // Too late (superseded or cancelled): the copy is nobody's, remove it.
                if !race.finish(.success(.fetched(bytes))), bytes.isTemporaryCopy { FileIO.unlinkQuietly(bytes.path) }
            } catch {
                race.finish(.success(.failed(error)))
            }
        }
        let watch = Task {
            while let updates = try? await feed.next() {
                inbox.add(updates)
                if updates.contains(where: { $0.task == task && $0.location != location }) {
                    race.finish(.success(.superseded))
                    return
                }
            }
        }
        let result = await withTaskCancellationHandler {
            await race.value()
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
        watch.cancel()
        await watch.value  // prompt: `feed.next()` ends on cancellation
        if case .success(.fetched) = result {} else {
            // Not awaited: a fetch stuck on a stopped holder ends by its own timeouts, and nobody waits for it.
            download.cancel()
        }
        return (try result.get(), inbox.take())
    }
}

/// The first of several results, awaited by one caller.
private final class FirstResult<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, any Error>?
        var waiter: CheckedContinuation<Result<Value, any Error>, Never>?
    }
    private let state = Mutex(State())

    /// Sets the result unless one was set; false when one was.
    @discardableResult
    func finish(_ result: Result<Value, any Error>) -> Bool {
        let waiter: CheckedContinuation<Result<Value, any Error>, Never>?? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return .some(s.waiter)
        }
        guard let waiter else { return false }
        waiter?.resume(returning: result)
        return true
    }

    func value() async -> Result<Value, any Error> {
        await withCheckedContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLock { s in
                if let result = s.result { return result }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Updates a watch took from a feed, kept for the reduce attempt.
private final class UpdateInbox: Sendable {
    private let updates = Mutex<[MapOutputUpdate]>([])
    func add(_ batch: [MapOutputUpdate]) { updates.withLock { $0 += batch } }
    func take() -> [MapOutputUpdate] { updates.withLock { u in defer { u = [] }; return u } }
}

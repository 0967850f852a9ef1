import MrshDataPath
import MrshPlan

/// Runs task attempts somewhere: on a thread of this process (`LocalExecutor`) or on a worker process
/// over TCP (MrshCluster's remote executor). The coordinator only talks to this protocol.
public protocol TaskExecutor: Sendable {
    /// A stable name for logs and `:workers` (for example "local-0" or a worker id).
    var name: String { get }
    /// How many task attempts this executor runs at the same time.
    var slots: Int { get }
    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult
    /// Runs a reduce attempt that may start before the map phase ends: `task.mapOutputs` holds the map
    /// outputs known at its start, `feed` delivers the others (and new locations of re-executed map tasks)
    /// until the attempt holds one output per map task (`task.mapTaskCount`).
    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult
}

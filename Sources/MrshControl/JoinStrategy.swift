import MrshDataPath
import MrshPlan

/// How the coordinator runs a `.join` job (see `Join`): as planned (the shuffle form) or as its broadcast
/// form, a map-only job over the left side whose map tasks each load the whole right side. The choice is
/// `Join.choice` (the rule `explain` shows too), made here once the right side's size is known: the sizes
/// of its files after glob expansion, or the bytes of the earlier job's parts it reads.
struct JoinStrategy {
    /// The job to run: the spec itself, or its broadcast form.
    var spec: JobSpec
    /// The sized inputs of each of `spec`'s sources.
    var inputs: [[InputPlanner.SizedInput]]
    /// The splits of each of `spec.sideInputs`, each side input whole (empty unless broadcast).
    var sideSplits: [[InputSplit]]
    /// "broadcast (right side 1.2 MiB <= broadcast limit 64 MiB)": what ran and why (nil: not a join).
    var note: String?

    /// The strategy for `spec`, whose sources have the sized `inputs`; any other job runs as it is.
    static func choose(_ spec: JobSpec, inputs: [[InputPlanner.SizedInput]], limit: Int64) -> JoinStrategy {
        guard let join = spec.join, join.rightSources <= inputs.count else {
            return JoinStrategy(spec: spec, inputs: inputs, sideSplits: [], note: nil)
        }
        let right = inputs[..<join.rightSources]
        let rightBytes = right.joined().reduce(Int64(0)) { $0 + $1.size }
        let (broadcast, reason) = join.choice(rightBytes: rightBytes, limit: limit)
        guard broadcast == true, let form = spec.broadcastJoinForm() else {
            return JoinStrategy(spec: spec, inputs: inputs, sideSplits: [], note: reason)
        }
        // Each side input whole, as its splits are (whole files; the parts of an earlier job as their blob
        // locations, which the map task fetches as a map task reading `.job(k)` does). Empty files add nothing.
        let sideSplits = right.map { sized in sized.filter { $0.size > 0 }.map(\.split) }
        return JoinStrategy(spec: form, inputs: Array(inputs[join.rightSources...]), sideSplits: sideSplits, note: reason)
    }
}

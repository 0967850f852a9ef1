import MrshDataPath
import MrshPlan

/// A reduce task's inputs on Spark: the blocks Spark shuffled to it, one file per map task named by the task's
/// number (a map task whose partition was empty sent none). Any map output blob id resolves to its task's
/// block, whole.
struct SparkBlockFetcher: BlobFetcher {
    let directory: String

    func fetch(_ blob: BlobLocation, partition: Int?, scratch: String) async throws -> LocalBytes {
        guard case .mapOutput(_, let task, _) = blob.id.kind else {
            throw EngineError.failed("a reduce task on Spark reads map outputs only, not '\(blob.id)'")
        }
        let path = directory + "/\(task)"
        guard let size = FileIO.size(of: path) else {
            return LocalBytes(path: "/dev/null", range: 0..<0, isTemporaryCopy: false)
        }
        return LocalBytes(path: path, range: 0..<size, isTemporaryCopy: false)
    }
}

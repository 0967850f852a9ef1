import Foundation
import MrshDataPath
import MrshPlan

/// `--counters FILE`: the counters of the pipelines a run (a script, a one-shot statement, a shell session)
/// ran so far, as JSON, rewritten after each one:
///
///     {"user": {"errors": 12},                 the user counters, summed over every pipeline
///      "pipelines": [                          one per pipeline run, in order: its JobSummary
///        {"elapsed": 0.1, "partsWritten": 0, "recordsOutput": 3,
///         "jobs": [{"job": 0, "mapTasks": 2, "reduceTasks": 1, "retries": 0, "elapsed": 0.1,
///                   "partitionRecords": [40],
///                   "map": {"recordsIn": ..., "bytesIn": ..., "recordsOut": ..., "bytesOut": ...,
///                           "spilledBytes": ..., "skippedRecords": ..., "taskNanoseconds": ...,
///                           "user": {"errors": 12}, "stages": {}},
///                   "reduce": {... the same; bytesIn is the bytes fetched}}]}]}
///
/// Every count is summed over the winning attempt of each task. Keys are sorted.
public enum CountersFile {
    struct Document: Encodable {
        var user: [String: Int64]
        var pipelines: [JobSummary]
    }

    public static func encode(_ summaries: [JobSummary]) throws -> Data {
        var user: [String: Int64] = [:]
        for summary in summaries {
            for (name, value) in summary.userCounters { user[name, default: 0] += value }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(Document(user: user, pipelines: summaries))
    }

    /// Writes the file whole (a temporary file renamed over it).
    public static func write(_ summaries: [JobSummary], to path: String) throws {
        var data = try encode(summaries)
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// A sink that drops the records (`explain analyze` counts them instead of printing them).
final class DiscardingSink: RecordSink {
    func write(_ bytes: UnsafeRawBufferPointer) throws {}
}

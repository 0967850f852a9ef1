#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshDataPath
import MrshPlan

/// `mrsh spark-task map|reduce REQUEST DIRECTORY`: one mrsh task inside a Spark task (the driver program
/// runs it with the executor's environment, in a directory of the attempt's own).
///
/// - `map REQUEST WORK`: a shuffled job's map task runs the fused map operators and the combiner into a map
///   output in WORK (partitioned by mrsh's own hash or range bounds) and prints its index; the driver program
///   sends each partition's region as one block. A map-only job's task writes its lines to its part (an
///   attempt-unique name renamed into place) and prints its result.
/// - `reduce REQUEST BLOCKS`: merges and reduces the blocks Spark delivered (`BLOCKS/<map task>`) into its
///   part, written under an attempt-unique name and renamed into place.
///
/// A Spark task may run twice (a retry, speculation, a lost executor): every attempt writes only under names
/// of its own and renames onto the same final name, so either attempt's output is the output.
public enum SparkTask {
    /// Runs the subcommand; returns the exit status (0, or 1 after one `mrsh: error: ...` line on stderr).
    public static func main(_ arguments: [String]) async -> Int32 {
        do {
            guard arguments.count == 3, ["map", "reduce"].contains(arguments[0]) else {
                throw EngineError.invalid("usage: mrsh spark-task map|reduce REQUEST DIRECTORY")
            }
            let request = try JSONDecoder().decode(
                SparkTaskRequest.self, from: Data(contentsOf: URL(fileURLWithPath: arguments[1])))
            let work = arguments[2].hasPrefix("/") ? arguments[2] : FileManager.default.currentDirectoryPath + "/" + arguments[2]
            guard chdir(request.workingDirectory) == 0 else {
                throw EngineError.failed(
                    "cannot enter the working directory '\(request.workingDirectory)' on this executor: \(String(cString: strerror(errno)))")
            }
            let answer: SparkTaskAnswer
            if arguments[0] == "map", let spec = request.map {
                answer = try await runMap(spec, engineStore: request.store, work: work)
            } else if arguments[0] == "reduce", let spec = request.reduce {
                answer = try await runReduce(spec, engineStore: request.store, blocks: work)
            } else {
                throw EngineError.invalid("the request holds no \(arguments[0]) task")
            }
            let data = try JSONEncoder().encode(answer)
            FileHandle.standardOutput.write(data)
            return 0
        } catch {
            let message = "mrsh: error: " + EngineError.describe(error).replacingOccurrences(of: "\n", with: " ") + "\n"
            FileHandle.standardError.write(Data(message.utf8))
            return 1
        }
    }

    static func runMap(_ spec: MapTaskSpec, engineStore: String, work: String) async throws -> SparkTaskAnswer {
        let engine = try BlobStore(root: engineStore)
        // Earlier jobs' parts and standard-input chunks are blobs of the engine's store, read in place.
        let fetcher = LocalBlobFetcher(store: engine, holders: [.local, .coordinator])
        let policy: BadRecordPolicy = spec.skipBadRecords == true ? .skip : .fail
        do {
            if spec.spec.shuffle != nil {
                let own = try BlobStore(root: work + "/store")
                let result = try await MapTaskRunner.run(spec, store: own, fetcher: fetcher, badRecords: policy)
                let path = own.path(of: BlobID.mapOutput(spec.job, task: spec.task, attempt: spec.attempt))
                let ranges = try MapOutputFormat.readIndex(path: path)
                return SparkTaskAnswer(
                    result: .map(result), blob: path, ranges: ranges.map { [$0.lowerBound, Int64($0.count)] })
            }
            switch spec.destination {
            case .file(let final):
                // The part under a name of this attempt's own, renamed into place when complete.
                var attempt = spec
                let temporary = final + ".spark-" + BlobStore.uniqueSuffix()
                attempt.destination = .file(path: temporary)
                var result = try await MapTaskRunner.run(attempt, store: engine, fetcher: fetcher, badRecords: policy)
                try rename(temporary, final)
                result.output = .file(path: final)
                return SparkTaskAnswer(result: .map(result))
            case .blob:
                // The engine's store writes the blob under a temporary name and renames it into place.
                return SparkTaskAnswer(
                    result: .map(try await MapTaskRunner.run(spec, store: engine, fetcher: fetcher, badRecords: policy)))
            }
        } catch {
            throw EngineError.failed("map task \(spec.task) of job \(spec.job.index) failed: \(EngineError.describe(error))")
        }
    }

    static func runReduce(_ spec: ReduceTaskSpec, engineStore: String, blocks: String) async throws -> SparkTaskAnswer {
        var task = spec
        task.mapOutputs = (0..<spec.mapTaskCount).map {
            BlobLocation(holder: .local, address: "", id: .mapOutput(spec.job, task: $0, attempt: 0))
        }
        task.mapOutputTasks = Array(0..<spec.mapTaskCount)
        let policy: BadRecordPolicy = spec.skipBadRecords == true ? .skip : .fail
        let fetcher = SparkBlockFetcher(directory: blocks)
        do {
            switch spec.destination {
            case .file(let final):
                let temporary = final + ".spark-" + BlobStore.uniqueSuffix()
                task.destination = .file(path: temporary)
                let own = try BlobStore(root: FileIO.parentDirectory(blocks) + "/store")
                var result = try await ReduceTaskRunner.run(task, store: own, fetcher: fetcher, badRecords: policy)
                try rename(temporary, final)
                result.output = .file(path: final)
                return SparkTaskAnswer(result: .reduce(result))
            case .blob:
                let engine = try BlobStore(root: engineStore)
                return SparkTaskAnswer(
                    result: .reduce(try await ReduceTaskRunner.run(task, store: engine, fetcher: fetcher, badRecords: policy)))
            }
        } catch {
            throw EngineError.failed(
                "reduce task \(spec.partition) of job \(spec.job.index) failed: \(EngineError.describe(error))")
        }
    }

    private static func rename(_ from: String, _ to: String) throws {
        do {
            try FileIO.rename(from, to)
        } catch {
            FileIO.unlinkQuietly(from)
            throw error
        }
    }
}

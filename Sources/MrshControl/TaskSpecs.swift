import MrshDataPath
import MrshPlan

/// The one place a job's task specs are built from its plan: the scheduler (one per attempt) and an
/// `ExternalTaskRunner`'s job (attempt 0 of each task) get the same specs.
package enum TaskSpecs {
    /// Attempt `attempt` of map task `task`.
    package static func map(
        job: JobID, spec: JobSpec, task: Int, attempt: Int, tasks: [[InputSplit]], sourceStarts: [Int],
        partitioner: Partitioner?, sideSplits: [[InputSplit]], options: EngineOptions,
        destination: (Int, Int) -> PartDestination
    ) -> MapTaskSpec {
        var mapTask = MapTaskSpec(
            job: job, spec: spec, task: task, attempt: attempt,
            source: SourceStarts.source(ofTask: task, starts: sourceStarts), splits: tasks[task],
            partitioner: partitioner, memoryBudget: options.memoryBudget,
            skipBadRecords: options.badRecords == .skip,
            destination: spec.shuffle == nil ? destination(task, attempt) : .blob)
        mapTask.sideSplits = sideSplits
        return mapTask
    }

    /// Attempt `attempt` of reduce task `partition`, given the map outputs known at its start.
    package static func reduce(
        job: JobID, spec: JobSpec, partition: Int, attempt: Int, mapOutputs: [BlobLocation], mapOutputTasks: [Int],
        mapTaskCount: Int, sourceStarts: [Int], options: EngineOptions, destination: (Int, Int) -> PartDestination
    ) -> ReduceTaskSpec {
        ReduceTaskSpec(
            job: job, spec: spec, partition: partition, attempt: attempt, mapOutputs: mapOutputs,
            mapOutputTasks: mapOutputTasks, mapTaskCount: mapTaskCount, sourceStarts: sourceStarts,
            destination: destination(partition, attempt), memoryBudget: options.memoryBudget,
            skipBadRecords: options.badRecords == .skip)
    }
}

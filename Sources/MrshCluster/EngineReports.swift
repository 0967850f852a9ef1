import MrshEngine
import MrshWire

/// Conversions between the engine's progress and summaries and their wire forms.
extension ProgressReport {
    public init(_ progress: JobProgress) {
        self.init(
            job: progress.job, jobs: progress.jobCount, phase: progress.phase.rawValue, mapsDone: progress.mapsDone,
            mapsTotal: progress.mapsTotal, reducesDone: progress.reducesDone, reducesTotal: progress.reducesTotal,
            bytesRead: progress.bytesRead, elapsed: progress.elapsed)
    }
}

extension JobProgress {
    public init(_ report: ProgressReport) {
        self.init(
            job: report.job, jobCount: report.jobs, phase: Phase(rawValue: report.phase) ?? .map,
            mapsDone: report.mapsDone, mapsTotal: report.mapsTotal, reducesDone: report.reducesDone,
            reducesTotal: report.reducesTotal, bytesRead: report.bytesRead, elapsed: report.elapsed)
    }
}

extension RunReport {
    /// A report of a finished run (`tasksPerWorker` is filled in by the coordinator).
    public init(_ summary: JobSummary) {
        self.init(
            summary: summary.description, elapsed: summary.elapsed, tasksPerWorker: [:],
            jobs: summary.jobs.map {
                JobCounters(
                    job: $0.job, mapTasks: $0.mapTasks, reduceTasks: $0.reduceTasks, retries: $0.retries, map: $0.map,
                    reduce: $0.reduce, elapsed: $0.elapsed)
            },
            partsWritten: summary.partsWritten, recordsOutput: summary.recordsOutput)
    }
}

extension JobSummary {
    public init(_ report: RunReport) {
        self.init(
            jobs: report.jobs.map {
                JobReport(
                    job: $0.job, mapTasks: $0.mapTasks, reduceTasks: $0.reduceTasks, retries: $0.retries, map: $0.map,
                    reduce: $0.reduce, elapsed: $0.elapsed)
            },
            elapsed: report.elapsed, partsWritten: report.partsWritten, recordsOutput: report.recordsOutput)
    }
}

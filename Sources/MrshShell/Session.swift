import MrshDataPath
import MrshControl
import MrshLanguage
import MrshPlan
import MrshPlanner

/// A session's settings: the job settings `:set` changes, and how it reports.
public struct SessionOptions: Sendable {
    /// What every job of the session runs with (the command line's, changed by `:set`).
    public var settings: JobSettings
    /// The reduce tasks `explain` and `:set` show while the engine chooses them (`settings.reducers` nil).
    public var defaultReducers: Int
    /// Print a one-line job summary on standard error after each job.
    public var showSummary: Bool
    /// Use colour in diagnostics.
    public var useColor: Bool
    /// Add the counters to the summary line (`--verbose`).
    public var verboseSummary: Bool
    /// Where the counters of the pipelines run so far are written as JSON after each one (`--counters`).
    public var countersFile: String?

    public init(
        settings: JobSettings = .defaults, defaultReducers: Int, showSummary: Bool = true, useColor: Bool = false,
        verboseSummary: Bool = false, countersFile: String? = nil
    ) {
        self.settings = settings
        self.defaultReducers = defaultReducers
        self.showSummary = showSummary
        self.useColor = useColor
        self.verboseSummary = verboseSummary
        self.countersFile = countersFile
    }

    /// Reduce tasks per shuffle where the plan leaves the choice to the engine.
    public var reducers: Int { settings.reducers ?? defaultReducers }
}

/// The session core shared by the REPL, scripts and one-shot mode: parses statements, keeps `let` bindings,
/// plans pipelines and runs them on a `JobRunner`. The modes differ only in where output goes, prompts and
/// history, and whether an error ends them.
public final class Session {
    public var options: SessionOptions
    public let runner: any JobRunner
    /// `parse csv header` reads the files' headers when a statement is planned (`CSVHeader`).
    private var planner = Planner(csvHeaderReader: { try CSVHeader.read(patterns: $0) })
    private let console: any SessionConsole
    /// The summaries of the pipelines run so far, for `--counters` (kept only when it is given).
    private var countedRuns: [JobSummary] = []

    public init(runner: any JobRunner, options: SessionOptions, console: any SessionConsole) {
        self.runner = runner
        self.options = options
        self.console = console
    }

    /// Names bound with `let` so far, sorted.
    public var bindingNames: [String] { planner.bindingNames }

    /// The field names after a pipeline's text, with this session's bindings (a snapshot, for completion).
    public var fieldNames: @Sendable (String) -> [String] {
        let planner = self.planner
        return { planner.fieldNames(afterPipeline: $0) }
    }

    /// Parses `source` and plans every statement before running any, so a script error means nothing ran.
    /// Then runs the statements in order, stopping at the first that fails.
    ///
    /// - Parameters:
    ///   - sourceName: shown in diagnostics (`job.mr`, `<command line>`, `<stdin>`).
    ///   - output: where records of pipelines without `write` go.
    ///   - standardInput: file descriptor read by pipelines without `read`, or nil when there is none.
    public func execute(
        _ source: String, sourceName: String, output: any RecordSink, standardInput: Int32?
    ) async -> ExecutionStatus {
        let steps: [Step]
        switch prepare(source, sourceName: sourceName) {
        case .success(let prepared): steps = prepared
        case .failure: return .scriptError
        }
        for step in steps {
            switch step {
            case .bind(let name, let pipeline):
                // Validated in `prepare`; binding again on the real planner cannot fail.
                try? planner.bind(name, to: pipeline)
            case .explain(let text):
                console.explain(text)
            case .run(let plan):
                let status = await run(plan, output: output, standardInput: standardInput)
                if status != .success { return status }
            case .analyze(let plan):
                let status = await analyze(plan, standardInput: standardInput)
                if status != .success { return status }
            }
        }
        return .success
    }

    /// Runs one plan and reports its outcome.
    public func run(_ plan: JobPlan, output: any RecordSink, standardInput: Int32?) async -> ExecutionStatus {
        (output as? any FieldNamedSink)?.beginRecords(fieldNames: plan.outputFieldNames)
        do {
            let summary = try await runner.run(
                plan, settings: options.settings, standardInput: standardInput, output: output,
                progress: { [console] in console.progress($0) })
            console.finished(summary, show: options.showSummary)
            return recordCounters(summary)
        } catch {
            let failure = Failure(error)
            console.error(failure)
            return failure.status
        }
    }

    /// `explain analyze`: runs the plan with probes between its stages (`ExplainAnalyze.instrument`),
    /// records for standard output counted but not printed, then prints the plan with what each stage did.
    public func analyze(_ plan: JobPlan, standardInput: Int32?) async -> ExecutionStatus {
        do {
            let summary = try await runner.run(
                ExplainAnalyze.instrument(plan), settings: options.settings, standardInput: standardInput,
                output: DiscardingSink(), progress: { [console] in console.progress($0) })
            console.explain(ExplainAnalyze.render(
                plan, summary: summary, reducers: options.reducers, broadcastLimit: options.settings.broadcastLimit,
                rightSideBytes: Session.rightSideBytes))
            return recordCounters(summary)
        } catch {
            let failure = Failure(error)
            console.error(failure)
            return failure.status
        }
    }

    /// With `--counters FILE`: rewrites FILE with the counters of every pipeline run so far.
    private func recordCounters(_ summary: JobSummary) -> ExecutionStatus {
        guard let path = options.countersFile else { return .success }
        countedRuns.append(summary)
        do {
            try CountersFile.write(countedRuns, to: path)
            return .success
        } catch {
            let failure = Failure("cannot write the counters to \(path): \(error)", status: .runtimeError)
            console.error(failure)
            return failure.status
        }
    }

    // MARK: - Preparing statements

    private enum Step {
        case bind(String, Pipeline)
        case explain(String)
        case run(JobPlan)
        /// `explain analyze`: the plan as planned (instrumented when it runs).
        case analyze(JobPlan)
    }

    private struct Reported: Error {}

    private func parse(_ source: String, sourceName: String) -> Result<Script, Reported> {
        switch parseScript(source, knownBindings: Set(planner.bindingNames)) {
        case .success(let script):
            return .success(script)
        case .failure(let diagnostics):
            console.diagnostic(diagnostics.render(source: source, fileName: sourceName, useColor: options.useColor))
            return .failure(Reported())
        }
    }

    /// The bytes of the files a join job's right side reads, when it reads only files (for `explain`; the
    /// coordinator measures the same way when it runs the job).
    static func rightSideBytes(_ job: JobSpec) -> Int64? {
        guard let join = job.join else { return nil }
        var total: Int64 = 0
        for source in job.sources.prefix(join.rightSources) {
            guard case .files(let patterns) = source.input,
                let sized = try? InputPlanner.sizedFiles(patterns.flatMap(Glob.expand))
            else { return nil }
            total += sized.reduce(0) { $0 + $1.size }
        }
        return total
    }

    /// Plans every statement on a copy of the planner, so a failing script leaves no binding behind.
    private func prepare(_ source: String, sourceName: String) -> Result<[Step], Reported> {
        let script: Script
        switch parse(source, sourceName: sourceName) {
        case .success(let parsed): script = parsed
        case .failure(let reported): return .failure(reported)
        }
        var scratch = planner
        var steps: [Step] = []
        for statement in script.statements {
            do throws(PlanError) {
                switch statement {
                case .bind(let name, _, let pipeline):
                    try scratch.bind(name, to: pipeline)
                    steps.append(.bind(name, pipeline))
                case .explain(let pipeline):
                    steps.append(.explain(Explain.render(
                        try scratch.plan(pipeline), reducers: options.reducers,
                        broadcastLimit: options.settings.broadcastLimit, rightSideBytes: Session.rightSideBytes)))
                case .run(let pipeline):
                    var plan = try scratch.plan(pipeline)
                    plan.title = Self.text(of: pipeline.range, in: source)
                    steps.append(.run(plan))
                case .explainAnalyze(let pipeline):
                    var plan = try scratch.plan(pipeline)
                    plan.title = "explain analyze " + Self.text(of: pipeline.range, in: source)
                    steps.append(.analyze(plan))
                }
            } catch {
                report(error, source: source, sourceName: sourceName)
                return .failure(Reported())
            }
        }
        return .success(steps)
    }

    /// The text of `range` in `source` (a statement as the user wrote it, for the status page's title).
    static func text(of range: SourceRange, in source: String) -> String {
        let bytes = Array(source.utf8)
        let start = max(0, min(range.start.offset, bytes.count))
        let end = max(start, min(range.end.offset, bytes.count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private func report(_ error: PlanError, source: String, sourceName: String) {
        let diagnostic = Diagnostic(error.message, range: error.range, help: error.help)
        console.diagnostic(diagnostic.render(source: source, fileName: sourceName, useColor: options.useColor))
    }
}

import MrshDataPath
import MrshLanguage
import MrshPlan

/// A mistake in a pipeline that the parser cannot see (for example `tag file` after a reduce).
public struct PlanError: Error, Sendable, Hashable {
    public var message: String
    public var range: SourceRange
    public var help: String?
    public init(message: String, range: SourceRange, help: String? = nil) {
        self.message = message
        self.range = range
        self.help = help
    }
}

/// Compiles pipelines into job chains.
///
/// Record-wise stages are fused into the map side of a job until the first shuffling stage (`reduce`, `sort`,
/// `distinct`, `count`); stages after a shuffle run on the reduce side, and the next shuffle starts a new job
/// that reads the previous job's parts. `take` is pushed into the tasks where it is safe (every map and
/// reduce task keeps at most N) and applied exactly once where the output is gathered.
public struct Planner: Sendable {
    /// Pipelines bound with `let`, already resolved to their stages.
    public private(set) var bindings: [String: [Stage]] = [:]
    /// Reads the header names of the CSV files a `read` matches (for `parse csv header`), checking that
    /// every file has the same header; nil where scripts cannot read files when they are checked.
    public var csvHeaderReader: (@Sendable ([String]) throws -> [String])?

    public init(csvHeaderReader: (@Sendable ([String]) throws -> [String])? = nil) {
        self.csvHeaderReader = csvHeaderReader
    }

    /// Records a `let` binding. The pipeline may itself start with an earlier binding.
    public mutating func bind(_ name: String, to pipeline: Pipeline) throws(PlanError) {
        bindings[name] = try resolve(pipeline)
    }

    /// The names bound so far, sorted (for completion and `:describe`).
    public var bindingNames: [String] { bindings.keys.sorted() }

    /// Replaces a leading binding reference by the stages it stands for.
    public func resolve(_ pipeline: Pipeline) throws(PlanError) -> [Stage] {
        guard let first = pipeline.stages.first else { return [] }
        if case .binding(let name) = first.op {
            guard let bound = bindings[name] else {
                throw PlanError(message: "unknown name '\(name)'", range: first.range,
                                help: "bind it first with: let \(name) = read \"...\" | ...")
            }
            return bound + pipeline.stages.dropFirst()
        }
        return pipeline.stages
    }

    /// The task graph of one pipeline.
    public func plan(_ pipeline: Pipeline) throws(PlanError) -> JobPlan {
        try compile(resolve(pipeline))
    }

    /// The names of the fields after the last pipeline of `source` (for completion): empty when it does not
    /// parse or plan, or names no field.
    public func fieldNames(afterPipeline source: String) -> [String] {
        guard case .success(let script) = parseScript(source, knownBindings: Set(bindingNames)),
            let statement = script.statements.last
        else { return [] }
        let pipeline: Pipeline
        switch statement {
        case .run(let p), .explain(let p), .explainAnalyze(let p), .bind(_, _, let p): pipeline = p
        }
        guard let stages = try? resolve(pipeline), let builder = try? build(stages) else { return [] }
        return builder.fieldNames
    }

    /// Compiles resolved stages (no binding references left) into a job chain.
    public func compile(_ stages: [Stage]) throws(PlanError) -> JobPlan {
        var builder = try build(stages)
        return builder.finish()
    }

    /// Walks the stages, checking names and types and accumulating jobs.
    private func build(_ stages: [Stage]) throws(PlanError) -> ChainBuilder {
        var builder = ChainBuilder(csvHeaderReader: csvHeaderReader, bindings: bindings)
        for (index, stage) in stages.enumerated() {
            try builder.add(stage, isLast: index == stages.count - 1)
        }
        return builder
    }
}

/// Accumulates jobs while walking a pipeline's stages.
private struct ChainBuilder {
    private(set) var jobs: [JobSpec] = []
    private(set) var current = JobSpec(id: 0, input: .standardInput, output: .standardOutput)
    /// Whether `current` already has its shuffle, so record stages go to its reduce side.
    private var shuffled: Bool { current.shuffle != nil }
    /// The order in which `current`'s output is sorted, if any (drives how a later `take` is gathered).
    private var outputOrder: SortOrder? = nil
    private var finalLimit: Int? = nil
    /// Set by a `take` that must be applied before later record stages run.
    private var pendingTake: Int? = nil
    /// The fields of the records at this point of the pipeline.
    private var scope = FieldScope.unknown
    let csvHeaderReader: (@Sendable ([String]) throws -> [String])?
    /// The `let` bindings a `join` or `union` may name, resolved to their stages.
    let bindings: [String: [Stage]]

    init(csvHeaderReader: (@Sendable ([String]) throws -> [String])?, bindings: [String: [Stage]]) {
        self.csvHeaderReader = csvHeaderReader
        self.bindings = bindings
    }

    private var checker: ExpressionChecker { ExpressionChecker(scope: scope) }

    /// The names of the fields at this point.
    var fieldNames: [String] { scope.knownNames }

    mutating func add(_ stage: Stage, isLast: Bool) throws(PlanError) {
        try checkRegexes(stage)
        if let limit = pendingTake {
            // A `take` that is followed by more stages: gather its records in order first.
            pendingTake = nil
            gather(limit: limit)
        }
        switch stage.op {
        case .read(let paths):
            current.input = .files(paths)
            scope = .unknown
        case .binding(let name):
            throw PlanError(message: "'\(name)' can only start a pipeline", range: stage.range)
        case .grep(let pattern, let negated):
            addRecordOp(.grep(textPattern(pattern), negated: negated))
        case .map(let function):
            switch function {
            case .words:
                addRecordOp(.words)
                scope = FieldScope(names: ["word"], isOpen: false)
            case .lower: addRecordOp(.lower)
            case .upper: addRecordOp(.upper)
            case .trim: addRecordOp(.trim)
            }
        case .split(let separator, let names):
            switch separator {
            case nil: addRecordOp(.split(.whitespace))
            case .literal(let text)?: addRecordOp(.split(.literal(text)))
            case .regex(let source, let caseInsensitive)?: addRecordOp(.split(.regex(source, caseInsensitive: caseInsensitive)))
            }
            scope = FieldScope(names: names.map(\.name), isOpen: true)
        case .pick(let fields):
            addRecordOp(.pick(fields))
            scope = FieldScope(names: fields.map { $0 <= scope.names.count ? scope.names[$0 - 1] : nil }, isOpen: false)
        case .extract(let pattern):
            addRecordOp(.extract(textPattern(pattern)))
            scope = FieldScope(names: [nil], isOpen: false)
        case .tagFile:
            if shuffled || current.input.isJobOutput {
                throw PlanError(
                    message: "'tag file' must come before the first reduce, sort, distinct or count",
                    range: stage.range,
                    help: "after a shuffle, records no longer belong to one input file")
            }
            addRecordOp(.tagFile)
            // The file's name is the last field: it has a number (and its name) only when the field count
            // before it is known.
            if scope.isOpen { scope.unnumbered["file"] = "tag file" } else { scope.names.append("file") }
        case .reduce(let function):
            startShuffle(shuffle(function))
            scope = FieldScope(names: [scope.names.first ?? nil, function.rawValue], isOpen: false)
        case .sort(let key, let descending):
            startShuffle(.sort(SortOrder(field: sortField(key), descending: descending), limit: nil))
        case .distinct:
            startShuffle(.distinct)
        case .count:
            startShuffle(.count)
            scope = FieldScope(names: ["count"], isOpen: false)
        case .where(let condition):
            addRecordOp(.filter(try checker.condition(condition, for: "'where'")))
        case .select(let items):
            try select(items)
        case .aggregate(let aggregates, let keys):
            try aggregate(aggregates, keys: keys, stage: stage)
        case .sortBy(let keys):
            addRecordOp(.prependSortKey(try sortParts(keys, defaultDescending: false)))
            startShuffle(.orderBy(limit: nil))
        case .top(let limit, let keys, let groups):
            try top(limit, keys: keys, groups: groups)
        case .parseCSV(let header, let names):
            try parseCSV(header: header, names: names, stage: stage)
        case .parseJSON(let paths):
            addRecordOp(.parseJSON(paths.map { $0.path.split(separator: ".").map(String.init) }))
            scope = FieldScope(
                names: paths.map { $0.alias?.name ?? String($0.path.split(separator: ".").last ?? "") }, isOpen: false)
        case .stream(let command):
            // The command's output lines are records whose fields nobody can know.
            addRecordOp(.stream(command: command))
            scope = .unknown
        case .take(let limit):
            take(limit, isLast: isLast)
        case .join(let clause):
            try join(clause)
        case .union(let references):
            try union(references)
        case .counter(let name, let condition):
            var checked: FieldExpression?
            if let condition { checked = try checker.condition(condition, for: "'counter'") }
            addRecordOp(.counter(name, condition: checked))
        case .write(let path, let overwrite):
            // A map-only pipeline writes one part per map task, in input order (as `grep` prints its
            // lines); after a shuffle the parts are the reduce tasks' outputs.
            current.output = .directory(path: path, overwrite: overwrite)
        }
    }

    // MARK: - Fields and expressions

    /// `select E [as NAME], ...`: a projection; a field keeps its name.
    private mutating func select(_ items: [NamedExpression]) throws(PlanError) {
        var expressions: [FieldExpression] = []
        var names: [String?] = []
        for item in items {
            expressions.append(try checker.value(item.expression))
            names.append(item.alias?.name ?? implicitName(item.expression))
        }
        try checkUnique(names, items.map { $0.alias?.range ?? $0.expression.range })
        addRecordOp(.project(expressions))
        scope = FieldScope(names: names, isOpen: false)
    }

    /// The name a field keeps through `select` and `by` when none is given: its own.
    private func implicitName(_ expression: Expression) -> String? {
        switch expression.kind {
        case .name(let name): return name
        case .field(let n) where n >= 1 && n <= scope.names.count: return scope.names[n - 1]
        case .call:
            // A call is named by its text (`upper(method)`), as a reduce names `sum(bytes)`, so later stages
            // can refer to it the same way.
            return ExpressionChecker.text(of: expression)
        default: break
        }
        return nil
    }

    private func checkUnique(_ names: [String?], _ ranges: [SourceRange]) throws(PlanError) {
        var seen: Set<String> = []
        for (name, range) in zip(names, ranges) {
            guard let name else { continue }
            guard seen.insert(name).inserted else {
                throw PlanError(message: "field name '\(name)' is given twice", range: range, help: "rename one with 'as'")
            }
        }
    }

    /// `reduce AGG, ... [by KEY, ...]`: a projection of the keys and the values the aggregates read, then
    /// the `groupBy` shuffle (or today's single-aggregate shuffle where it means the same, which is faster).
    private mutating func aggregate(_ calls: [AggregateCall], keys: [NamedExpression]?, stage: Stage) throws(PlanError) {
        let keyItems = keys ?? []
        var projection: [FieldExpression] = []
        var outputNames: [String?] = []
        if keys == nil {
            projection.append(.field(1))
            outputNames.append(scope.names.first ?? nil)
        }
        for item in keyItems {
            projection.append(try checker.value(item.expression))
            outputNames.append(item.alias?.name ?? implicitName(item.expression))
        }
        let keyCount = projection.count
        // A single aggregate without `by` (renamed, or `count()`): today's shuffle, under its new name.
        if keys == nil, calls.count == 1, calls[0].argument == nil {
            let name = calls[0].alias?.name ?? calls[0].function.rawValue
            startShuffle(shuffle(calls[0].function))
            scope = FieldScope(names: [outputNames[0], name], isOpen: false)
            return
        }
        var valueIndex: [FieldExpression: Int] = [:]
        var aggregations: [Aggregation] = []
        var aggregateNames: [String] = []
        for call in calls {
            var input: Int?
            if call.function != .count {
                let value: FieldExpression
                if let argument = call.argument {
                    value = try checker.aggregateInput(argument, for: call.function.rawValue)
                } else {
                    value = .field(2)  // a bare aggregate in a list reads the value field
                }
                if let known = valueIndex[value] {
                    input = known
                } else {
                    input = projection.count - keyCount
                    valueIndex[value] = input
                    projection.append(value)
                }
            }
            aggregations.append(Aggregation(AggregateFunction(rawValue: call.function.rawValue) ?? .count, input: input))
            let defaultName = call.argument.map { "\(call.function.rawValue)(\(ExpressionChecker.text(of: $0)))" } ?? call.function.rawValue
            aggregateNames.append(call.alias?.name ?? defaultName)
        }
        // Collisions of default names get a number (count, count1, ...), as KQL does.
        var taken = Set(outputNames.compactMap { $0 })
        for (i, call) in calls.enumerated() where call.alias == nil {
            var name = aggregateNames[i]
            var n = 1
            while taken.contains(name) {
                name = aggregateNames[i] + String(n)
                n += 1
            }
            aggregateNames[i] = name
            taken.insert(name)
        }
        let allNames = outputNames + aggregateNames.map(Optional.some)
        try checkUnique(
            allNames,
            keyItems.map { $0.alias?.range ?? $0.expression.range } + (keys == nil ? [stage.range] : [])
                + calls.map { $0.alias?.range ?? $0.range })
        // Records that already are `keys TAB values` (`parse json "k", "v" | reduce sum(v) by k`) need no copy.
        let identity = !scope.isOpen && projection == (0..<scope.names.count).map { FieldExpression.field($0 + 1) }
        if !identity { addRecordOp(.project(projection)) }
        if keyCount == 1, aggregations.count == 1, aggregations[0].function == .count {
            startShuffle(.aggregate(.count))  // `reduce count by E`: the word-count path
        } else {
            startShuffle(.groupBy(GroupBy(keyFields: keyCount, aggregations: aggregations)))
        }
        scope = FieldScope(names: allNames, isOpen: false)
    }

    /// Sort keys of `sort by` / `top ... by`, with the default direction where none is written.
    private func sortParts(_ keys: [SortExpression], defaultDescending: Bool) throws(PlanError) -> [SortKeyPart] {
        var parts: [SortKeyPart] = []
        for key in keys {
            if case .name(let name) = key.expression.kind, scope.number(of: name) == nil,
                Suggestion.nearest(to: name, among: scope.knownNames) == nil,
                let legacy = Suggestion.nearest(to: name, among: SortKey.allCases.map(\.rawValue))
            {
                throw PlanError(
                    message: "unknown sort key '\(name)'", range: key.expression.range,
                    help: "did you mean '\(legacy)'? (or a field: sort by $2, or a name given with split ... as)")
            }
            parts.append(SortKeyPart(try checker.value(key.expression), descending: key.descending ?? defaultDescending))
        }
        return parts
    }

    /// `top N by S [per G]`: without per, a sort whose one reduce task keeps N; with per, the top-per-group
    /// shuffle on `G TAB S TAB record`.
    private mutating func top(_ limit: Int, keys: [SortExpression], groups: [Expression]) throws(PlanError) {
        let ranking = try sortParts(keys, defaultDescending: true)
        if groups.isEmpty {
            addRecordOp(.prependSortKey(ranking))
            startShuffle(.orderBy(limit: limit))
            current.reducers = 1
            return
        }
        var groupParts: [SortKeyPart] = []
        for group in groups { groupParts.append(SortKeyPart(try checker.value(group), descending: false)) }
        addRecordOp(.prependGroupAndSortKey(group: groupParts, rank: ranking))
        startShuffle(.topPerGroup(limit: limit))
    }

    /// `parse csv [header] [as ...]`: right after `read` it sets the source's format, so records may span
    /// lines; later, each record is one CSV line.
    private mutating func parseCSV(header: Bool, names: [FieldName], stage: Stage) throws(PlanError) {
        let atSource = !shuffled && current.sources.count == 1 && current.mapOps.isEmpty && current.mapLimit == nil && !current.input.isJobOutput
        if atSource {
            current.sources[0].format = .csv(skipHeader: header)
        } else if header {
            throw PlanError(
                message: "'parse csv header' must come right after read", range: stage.range,
                help: "the header is the first line of each input file; parse it first: read f.csv | parse csv header | ...")
        }
        addRecordOp(.parseCSV)
        guard header else {
            scope = names.isEmpty ? .unknown : FieldScope(names: names.map(\.name), isOpen: true)
            return
        }
        guard case .files(let patterns) = current.input else {
            throw PlanError(
                message: "'parse csv header' needs files to read the header from", range: stage.range,
                help: "standard input has no header line to read in advance: name the fields with parse csv as NAME, ...")
        }
        guard let csvHeaderReader else {
            throw PlanError(message: "'parse csv header' cannot read files here", range: stage.range)
        }
        do {
            scope = FieldScope(names: try csvHeaderReader(patterns), isOpen: true)
        } catch {
            throw PlanError(message: "\(error)", range: stage.range)
        }
    }

    /// Compiles the regex of a `grep`, `extract` or `split` once, so a bad one is a script error pointing at
    /// its stage (also inside a `let` binding) rather than a task failure.
    private func checkRegexes(_ stage: Stage) throws(PlanError) {
        switch stage.op {
        case .grep(.regex(let source, let caseInsensitive), _), .extract(.regex(let source, let caseInsensitive)):
            try ExpressionChecker.checkRegex(source, caseInsensitive: caseInsensitive, at: stage.range)
        case .split(.regex(let source, _)?, _):
            try ExpressionChecker.checkCompiles(.split(.regex(source)), at: stage.range)
        default:
            break
        }
    }

    /// Applies `take N`: pushed into the tasks, gathered where the output is collected.
    private mutating func take(_ limit: Int, isLast: Bool) {
        if isLast {
            // The last stage: every task may stop early; the client keeps exactly N.
            if !shuffled {
                limitMapTasks(limit)
            } else if case .sort(let order, _) = current.shuffle, current.reduceOps.isEmpty {
                current.shuffle = .sort(order, limit: limit)
            } else if case .orderBy(let existing) = current.shuffle, current.reduceOps.isEmpty {
                current.shuffle = .orderBy(limit: min(existing ?? limit, limit))
            }
            finalLimit = min(finalLimit ?? limit, limit)
        } else {
            pendingTake = limit
        }
    }

    /// Ends `current` and starts a job that keeps the first `limit` records of its output in order.
    private mutating func gather(limit: Int) {
        if !shuffled {
            limitMapTasks(limit)
            current.shuffle = .gather(limit: limit)
            current.reducers = 1
            outputOrder = nil
            return
        }
        let order = outputOrder
        endJob()
        if let order {
            current.shuffle = .sort(order, limit: limit)
        } else {
            current.mapLimit = limit
            current.shuffle = .gather(limit: limit)
        }
        current.reducers = 1
    }

    /// Starts `shuffle` (ending the current job first if it has one); what follows is in its kind's order.
    private mutating func startShuffle(_ shuffle: Shuffle) {
        if shuffled { endJob() }
        for side in current.sources.indices { current.sources[side].fieldNames = scope.description }
        current.shuffle = shuffle
        let kind = shuffle.kind
        if kind.partitioning == .single { current.reducers = 1 }
        switch shuffle {
        case .orderBy, .topPerGroup:
            // Ordered by a key the reduce strips: a later `take` keeps the first records in part order.
            outputOrder = nil
        default:
            outputOrder = kind.outputOrder
        }
    }

    private mutating func addRecordOp(_ op: RecordOp) {
        if shuffled {
            current.reduceOps.append(op)
            // Record stages after a shuffle may change keys: a later `take` keeps the first records in
            // part order (still the total order after a `sort`, whose parts are ranges).
            outputOrder = nil
        } else {
            // Every source of a job that is still on its map side (after a `union`, several) runs it.
            for side in current.sources.indices { current.sources[side].mapOps.append(op) }
        }
    }

    /// Closes `current` as an intermediate job and starts the next one reading its parts.
    private mutating func endJob() {
        current.reduceFieldNames = scope.description
        current.output = .intermediate
        jobs.append(current)
        current = JobSpec(id: jobs.count, input: .job(jobs.count - 1), output: .standardOutput)
    }

    mutating func finish() -> JobPlan {
        if let limit = pendingTake {
            pendingTake = nil
            take(limit, isLast: true)
        }
        if shuffled {
            current.reduceFieldNames = scope.description
        } else {
            for side in current.sources.indices { current.sources[side].fieldNames = scope.description }
        }
        jobs.append(current)
        return JobPlan(jobs: jobs, finalLimit: finalLimit)
    }

    /// Every map task of `current` keeps at most `limit` records.
    private mutating func limitMapTasks(_ limit: Int) {
        for side in current.sources.indices {
            current.sources[side].mapLimit = min(current.sources[side].mapLimit ?? limit, limit)
        }
    }

    // MARK: - Several inputs

    /// A binding's records as sources of `current`: the binding's stages compiled on their own, the jobs they
    /// need added to the plan (numbered after those before), and the sources that read its records (its last
    /// job's sources when that job is map-only, else that job's parts), with the fields they have.
    private mutating func sideSources(_ reference: BindingReference, for stageName: String) throws(PlanError) -> (sources: [JobSource], scope: FieldScope) {
        guard let stages = bindings[reference.name] else {
            throw PlanError(message: "unknown binding '\(reference.name)'", range: reference.range)
        }
        var side = ChainBuilder(csvHeaderReader: csvHeaderReader, bindings: bindings)
        for stage in stages {
            try side.add(stage, isLast: false)
            if case .write = stage.op {
                throw PlanError(
                    message: "'\(reference.name)' writes its records, so \(stageName) cannot read them", range: reference.range,
                    help: "remove the write from the binding, or read its output directory: let \(reference.name) = read \"out/part-*\"")
            }
        }
        if let limit = side.pendingTake {
            side.pendingTake = nil
            side.gather(limit: limit)
        }
        var sideJobs = side.jobs
        var sources: [JobSource]
        if side.shuffled {
            side.current.reduceFieldNames = side.scope.description
            side.current.output = .intermediate
            sideJobs.append(side.current)
            sources = [JobSource(input: .job(sideJobs.count - 1))]
        } else {
            for index in side.current.sources.indices { side.current.sources[index].fieldNames = side.scope.description }
            sources = side.current.sources
        }
        let readsStandardInput = sideJobs.contains { $0.sources.contains { $0.input == .standardInput } }
            || sources.contains { $0.input == .standardInput }
        let mainReadsStandardInput = jobs.contains { $0.sources.contains { $0.input == .standardInput } }
            || current.sources.contains { $0.input == .standardInput }
        if readsStandardInput && mainReadsStandardInput {
            throw PlanError(
                message: "'\(reference.name)' reads standard input, and so does the pipeline \(stageName) is in", range: reference.range,
                help: "standard input can be read once: give one of them a read of files")
        }
        // Renumber the binding's jobs after the plan's own, and `current` after them.
        let offset = jobs.count
        func renumbered(_ source: JobSource) -> JobSource {
            var source = source
            if case .job(let k) = source.input { source.input = .job(k + offset) }
            return source
        }
        for var job in sideJobs {
            job.id += offset
            job.sources = job.sources.map(renumbered)
            jobs.append(job)
        }
        current.id = jobs.count
        return (sources.map(renumbered), side.scope)
    }

    /// `join [left] NAME on L [= R] [using ...]`: one job whose sources are NAME's (the right side, first)
    /// and the records flowing in (the left side), each keyed by `.prependJoinKey`, and the `.join` shuffle;
    /// the coordinator may run it as a broadcast join instead (see `Join`).
    private mutating func join(_ clause: JoinClause) throws(PlanError) {
        let stageName = "join"
        let leftKey = try checker.value(clause.leftKey)
        if shuffled { endJob() }
        let leftScope = scope
        let (rightSources, rightScope) = try sideSources(clause.binding, for: stageName)
        let rightKey = try ExpressionChecker(scope: rightScope).value(clause.rightKey ?? clause.leftKey)
        // The right side's key field moves into the key: the output keeps it once, from the left side.
        var removing: Int?
        if case .field(let n) = rightKey, n >= 1 { removing = n }
        var rightNames = rightScope.names
        if let removing, removing <= rightNames.count { rightNames.remove(at: removing - 1) }
        let leftNames = Set(leftScope.names.compactMap { $0 } + Array(leftScope.unnumbered.keys))
        let prefixed: [String?] = rightNames.map { name in
            guard let name else { return nil }
            return leftNames.contains(name) ? "\(clause.binding.name).\(name)" : name
        }
        var left = current.sources
        for side in left.indices { left[side].mapOps.append(.prependJoinKey(leftKey, .left, salt: nil)) }
        var right = rightSources
        for side in right.indices {
            right[side].mapOps.append(.prependJoinKey(rightKey, .right(removingField: removing), salt: nil))
        }
        current.sources = right + left
        let strategy: Join.Strategy
        switch clause.strategy {
        case nil: strategy = .auto
        case .shuffle?: strategy = .shuffle
        case .broadcast?: strategy = .broadcast
        }
        current.shuffle = .join(Join(
            kind: clause.kind == .left ? .left : .inner, strategy: strategy, rightSources: right.count,
            rightFieldCount: rightNames.count))
        outputOrder = nil
        for side in right.indices { current.sources[side].fieldNames = rightScope.description }
        for side in right.count..<current.sources.count { current.sources[side].fieldNames = leftScope.description }
        // The fields after the join: the left ones, then the right ones without the key field.
        if leftScope.isOpen {
            scope = leftScope
            for name in prefixed.compactMap({ $0 }) { scope.unnumbered[name] = "join" }
        } else {
            scope = FieldScope(names: leftScope.names + prefixed, isOpen: rightScope.isOpen)
            scope.unnumbered = leftScope.unnumbered.merging(rightScope.unnumbered) { left, _ in left }
        }
    }

    /// `union NAME, ...`: the bindings' sources after those of the records flowing in, in one job (a
    /// map-only job's parts are in source order); the fields keep the left side's names.
    private mutating func union(_ references: [BindingReference]) throws(PlanError) {
        if shuffled { endJob() }
        for reference in references {
            let (sources, _) = try sideSources(reference, for: "union")
            current.sources += sources
        }
    }

    private func textPattern(_ pattern: PatternArgument) -> TextPattern {
        switch pattern {
        case .literal(let text): return .literal(text)
        case .regex(let source, let caseInsensitive): return .regex(source, caseInsensitive: caseInsensitive)
        }
    }

    private func shuffle(_ function: ReduceFunction) -> Shuffle {
        switch function {
        case .count: return .aggregate(.count)
        case .sum: return .aggregate(.sum)
        case .min: return .aggregate(.min)
        case .max: return .aggregate(.max)
        case .avg: return .aggregate(.avg)
        case .collect: return .aggregate(.collect)
        case .distinct: return .aggregate(.distinct)
        case .ndistinct: return .ndistinct
        }
    }

    private func sortField(_ key: SortKey) -> SortField {
        switch key {
        case .key: return .key
        case .value: return .value
        case .record: return .record
        }
    }
}

extension JobInput {
    fileprivate var isJobOutput: Bool {
        if case .job = self { return true }
        return false
    }
}

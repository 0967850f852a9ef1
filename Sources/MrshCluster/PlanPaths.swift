import MrshDataPath
import MrshControl
import MrshPlan

/// A plan with every relative path (read patterns, output directories) made absolute against the client's
/// working directory, so that workers with another working directory read and write the same files; errors
/// are mapped back to the paths as the user wrote them.
struct PlanPaths {
    let plan: JobPlan
    /// Absolute path -> the path in the user's plan.
    private let originals: [String: String]

    init(_ plan: JobPlan, workingDirectory: String) {
        var originals: [String: String] = [:]
        func absolute(_ path: String) -> String {
            guard !path.hasPrefix("/"), !workingDirectory.isEmpty else { return path }
            let base = workingDirectory.hasSuffix("/") ? String(workingDirectory.dropLast()) : workingDirectory
            let made = base + "/" + path
            originals[made] = path
            return made
        }
        var plan = plan
        for index in plan.jobs.indices {
            for source in plan.jobs[index].sources.indices {
                if case .files(let patterns) = plan.jobs[index].sources[source].input {
                    plan.jobs[index].sources[source].input = .files(patterns.map(absolute))
                }
            }
            if case .directory(let path, let overwrite) = plan.jobs[index].output {
                plan.jobs[index].output = .directory(path: absolute(path), overwrite: overwrite)
            }
        }
        self.plan = plan
        self.originals = originals
    }

    /// The error with the user's own paths.
    func restoring(_ error: EngineError) -> EngineError {
        switch error {
        case .noMatch(let pattern): return .noMatch(pattern: originals[pattern] ?? pattern)
        case .outputExists(let path): return .outputExists(path: originals[path] ?? path)
        case .outputNotCreatable(let path, let reason): return .outputNotCreatable(path: originals[path] ?? path, reason: reason)
        default: return error
        }
    }
}

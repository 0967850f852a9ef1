/// An error of the engine that a user can cause or needs to see, with a user-facing message.
///
/// `isValidation` separates "nothing ran" (bad glob, non-empty output directory: the caller exits 2)
/// from "failed at run time" (a task failed, cancelled: the caller exits 1).
public enum EngineError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A `read` pattern matched no file.
    case noMatch(pattern: String)
    /// The output directory exists and is not empty and `overwrite` was not given.
    case outputExists(path: String)
    /// The output directory cannot be created (its parent is not a writable directory).
    case outputNotCreatable(path: String, reason: String)
    /// Another check before anything ran failed.
    case invalid(String)
    /// A task failed `attempts` times; `location` names its input when known ("logs/a.txt at offset 0").
    case taskFailed(task: String, job: Int, attempts: Int, location: String?, cause: String)
    /// A record the task could not process (for example a value `sum` cannot read).
    case badRecord(String)
    /// The run was cancelled.
    case cancelled
    /// Any other run-time failure (I/O, a lost worker, a corrupt blob).
    case failed(String)

    /// The text shown to the user, without a leading "error: ".
    public var message: String {
        switch self {
        case .noMatch(let pattern):
            return "no file matches '\(pattern)'"
        case .outputExists(let path):
            return "output directory '\(path)' exists and is not empty (use `write \(path) overwrite` to replace it)"
        case .outputNotCreatable(let path, let reason):
            return "cannot create output directory '\(path)': \(reason)"
        case .invalid(let text), .badRecord(let text), .failed(let text):
            return text
        case .taskFailed(let task, let job, let attempts, let location, let cause):
            let times = attempts == 1 ? "once" : "\(attempts) times"
            let place = location.map { " on \($0)" } ?? ""
            return "task \(task) of job \(job) failed \(times)\(place): \(cause)"
        case .cancelled:
            return "cancelled"
        }
    }

    /// True when the error was found before anything ran.
    public var isValidation: Bool {
        switch self {
        case .noMatch, .outputExists, .outputNotCreatable, .invalid: return true
        case .taskFailed, .badRecord, .cancelled, .failed: return false
        }
    }

    public var description: String { message }

    /// The message of any error: `EngineError.message`, else its description.
    package static func describe(_ error: any Error) -> String {
        if let engine = error as? EngineError { return engine.message }
        return String(describing: error)
    }
}

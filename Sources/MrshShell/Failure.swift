import MrshDataPath

/// What the user is told when something fails, and the exit status it ends a script or command with: the
/// one mapping of an error to (message, status). Session, REPL and CLI report through it, and `main.swift`
/// writes a thrown `Failure` as `PROGRAM: error: MESSAGE` and exits with its status.
public struct Failure: Error, Sendable, CustomStringConvertible {
    /// The text without a leading "error: ".
    public var message: String
    public var status: ExecutionStatus
    /// Who speaks: `mrsh`, `mrsh worker`, `mrsh coordinator`.
    public var program: String

    public init(_ message: String, status: ExecutionStatus, program: String = "mrsh") {
        self.message = message
        self.status = status
        self.program = program
    }

    /// Any error as the user sees it: a validation error of the engine (nothing ran) is a script error (2);
    /// a task failure, a cancelled job and anything else failed at run time (1).
    public init(_ error: any Error) {
        switch error {
        case let failure as Failure:
            self = failure
        case let engine as EngineError:
            self.init(engine.message, status: engine.isValidation ? .scriptError : .runtimeError)
        case is CancellationError:
            self.init("job cancelled", status: .runtimeError)
        default:
            self.init("\(error)", status: .runtimeError)
        }
    }

    public var description: String { message }

    /// The line written to standard error: `mrsh: error: no file matches 'x'`.
    public var line: String { "\(program): error: \(message)\n" }
}

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import MrshDataPath
import MrshLanguage
import MrshPlanner

/// How a statement, a script or a command ended, as the process's exit status. The one list of mrsh's exit
/// statuses: `Failure` decides which one an error means, and `Failure.end()` ends the process with it.
public enum ExecutionStatus: Int32, Sendable {
    case success = 0
    /// A job failed while running (a cancelled one too).
    case runtimeError = 1
    /// The script or the command line is wrong (parse, plan or validation error, bad flag): nothing of it ran.
    case scriptError = 2
    /// Ended by SIGHUP (128 + 1), after the running job was cancelled and cleaned up: its terminal closed.
    case hungUp = 129
    /// Ended by SIGINT (128 + 2): a second Ctrl-C while the first one's cancellation was under way.
    case interrupted = 130
    /// Ended by SIGTERM (128 + 15), after the running job was cancelled and cleaned up.
    case terminated = 143

    /// The status of a process that `signal` (SIGINT, SIGHUP or SIGTERM) ends.
    public init(endedBy signal: Int32) {
        self = signal == SIGINT ? .interrupted : signal == SIGHUP ? .hungUp : .terminated
    }

    /// The signal a process with this status ends by (so that its parent sees the signal), or nil.
    public var signal: Int32? {
        switch self {
        case .interrupted: return SIGINT
        case .hungUp: return SIGHUP
        case .terminated: return SIGTERM
        case .success, .runtimeError, .scriptError: return nil
        }
    }
}

/// What the user is told when something fails, and the exit status it ends a statement, a script or a
/// command with: the one renderer of mrsh's messages. Every path reports through it: the script and one-shot
/// modes (`StandardConsole`), the REPL (which keeps going after showing it), the coordinator and worker
/// commands and the argument parser's errors (`main.swift`, which ends the process with `end()`).
///
/// One prefix scheme: `PROGRAM: error: MESSAGE`, where PROGRAM is `mrsh`, `mrsh worker` or
/// `mrsh coordinator`. Script diagnostics with carets (`Diagnostic`) keep their compiler-like shape; they are
/// shown by the session, which then ends with `Failure.exit(.scriptError)`.
public struct Failure: Error, Sendable, CustomStringConvertible {
    /// The text without a leading "error: ".
    public var message: String
    public var status: ExecutionStatus
    /// Who speaks: `mrsh`, `mrsh worker`, `mrsh coordinator`.
    public var program: String
    /// How `message` is shown.
    var form: Form

    enum Form: Sendable {
        /// `PROGRAM: error: MESSAGE`.
        case error
        /// As it is (the argument parser's usage text and help, which carry their own shape).
        case verbatim
        /// Nothing: the message was shown already (a diagnostic, a statement's error); only the status is left.
        case shown
    }

    public init(_ message: String, status: ExecutionStatus, program: String = "mrsh") {
        self.message = message
        self.status = status
        self.program = program
        form = .error
    }

    /// Any error as the user sees it. An error found before anything ran is a script error (2): a validation
    /// error of the engine, a plan or parse error, a bad operator. A task failure, a cancelled job and anything
    /// else failed at run time (1). (A command-line mistake the engine cannot know of, such as a token file
    /// that cannot be used, is thrown by the command as `Failure(_:status:)` with `.scriptError`.)
    public init(_ error: any Error, program: String = "mrsh") {
        switch error {
        case let failure as Failure:
            self = failure
        case let engine as EngineError:
            switch engine {
            case .cancelled: self.init("job cancelled", status: .runtimeError, program: program)
            default: self.init(engine.message, status: engine.isValidation ? .scriptError : .runtimeError, program: program)
            }
        case is CancellationError:
            self.init("job cancelled", status: .runtimeError, program: program)
        case let plan as PlanError:
            self.init(plan.message, status: .scriptError, program: program)
        case let diagnostic as Diagnostic:
            self.init(diagnostic.message, status: .scriptError, program: program)
        case let list as DiagnosticList:
            self.init(list.diagnostics.first?.message ?? "the script has errors", status: .scriptError, program: program)
        case let op as OperatorError:
            self.init(op.message, status: .scriptError, program: program)
        default:
            self.init("\(error)", status: .runtimeError, program: program)
        }
    }

    /// The end of a run whose messages were shown already: only `status` is left to decide the exit.
    public static func exit(_ status: ExecutionStatus) -> Failure {
        var failure = Failure("", status: status)
        failure.form = .shown
        return failure
    }

    /// The argument parser's text for a command line it refused (shown as it is, exit status 2), or the help
    /// or version it was asked for (on standard output, status 0).
    public static func usage(_ text: String, helpRequested: Bool) -> Failure {
        var failure = Failure(text, status: helpRequested ? .success : .scriptError)
        failure.form = .verbatim
        return failure
    }

    public var description: String { message }

    /// The line written to standard error: `mrsh: error: no file matches 'x'`.
    public var line: String { line(style: Style(enabled: false)) }

    /// The line with its "error:" in the REPL's colours.
    func line(style: Style) -> String {
        switch form {
        case .error: return "\(program): \(style.red("error:")) \(message)\n"
        case .verbatim: return message.isEmpty || message.hasSuffix("\n") ? message : message + "\n"
        case .shown: return ""
        }
    }

    /// Shows the message (standard error; standard output for help that was asked for) and ends the process
    /// with `status`; `interrupted` and `terminated` end it by their signal, so that its parent sees it.
    public func end() -> Never {
        let text = line
        if !text.isEmpty { (status == .success ? TerminalWriter.standardOutput : TerminalWriter.standardError).write(text) }
        if let signal = status.signal { InterruptMonitor.endProcess(by: signal) }
        Glibc.exit(status.rawValue)
    }
}

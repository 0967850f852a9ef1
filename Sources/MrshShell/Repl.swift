import MrshLanguage
import MrshDataPath
import Foundation

/// The read-eval-print loop: reads statements (several lines while incomplete), runs them on the
/// backend, and dispatches `:commands`. One loop serves a terminal and a piped script; the mode decides
/// prompts, history, presentation and whether an error stops it.
final class Repl {
    let backend: any ShellBackend
    let interactive: Bool
    let terminal: Terminal
    var limit: Int
    let quiet: Bool
    let sourceName: String
    let history: LineHistory
    /// Whether the shell already said that history cannot be saved.
    private var historyWarned = false
    private var editor: LineEditor?
    /// `let` names, refreshed after each statement (completion runs synchronously inside libedit).
    private(set) var bindings: [String] = []
    private var optionNames: [String] = []

    static let prompt = "mrsh> "
    static let continuationPrompt = "  ..> "

    init(
        backend: any ShellBackend, configuration: ShellConfiguration,
        out: TerminalWriter = .standardOutput, err: TerminalWriter = .standardError
    ) {
        self.backend = backend
        self.out = out
        self.err = err
        terminal = Terminal.current(environment: configuration.environment)
        interactive = configuration.interactive ?? terminal.inputIsTerminal
        limit = configuration.limit
        quiet = configuration.quiet
        sourceName = configuration.sourceName
        history = LineHistory(
            path: interactive ? configuration.historyPath ?? LineHistory.defaultPath(environment: configuration.environment) : nil)
    }

    var style: Style { Style(enabled: interactive && terminal.color) }
    var errorStyle: Style { Style(enabled: interactive && terminal.errorColor) }
    let out: TerminalWriter
    let err: TerminalWriter

    /// Runs until the end of input or `:quit`; returns the exit status.
    func run() async -> Int32 {
        if interactive {
            history.load()
            editor = LineEditor(program: "mrsh", history: history, completer: Completer(), output: out)
            err.write(errorStyle.dim("mrsh: :help for help, Ctrl-D or :quit to leave") + "\n")
        }
        await refreshNames()
        let status = await loop()
        if interactive { history.save() }
        editor = nil
        return status
    }

    private func loop() async -> Int32 {
        var buffer = ""
        while true {
            // SIGTERM during a statement: it was cancelled and cleaned up; leave as the signal asked.
            if interactive && InterruptMonitor.shared.terminateRequested { return ExecutionStatus.terminated.rawValue }
            let input = readInput(continuing: !buffer.isEmpty)
            let line: String
            switch input {
            case .interrupted:
                buffer = ""
                continue
            case .endOfInput:
                if interactive {
                    out.write("\n")
                    return 0
                }
                // A script that ends inside a statement: let the session report what is missing.
                if !buffer.isEmpty {
                    let status = await execute(buffer)
                    if case .failed(let code) = status { return code }
                }
                return 0
            case .line(let text):
                line = text
            }
            if buffer.isEmpty, let command = Self.commandText(line) {
                rememberInHistory(line)
                switch await dispatch(command) {
                case .proceed: continue
                case .quit: return 0
                case .failed(let code): if !interactive { return code }
                }
                continue
            }
            buffer += buffer.isEmpty ? line : "\n" + line
            switch StatementCompleteness(of: buffer) {
            case .empty:
                buffer = ""
            case .incomplete:
                continue
            case .complete:
                let statement = buffer
                buffer = ""
                rememberInHistory(statement)
                let status = await execute(statement)
                if !interactive, case .failed(let code) = status { return code }
            }
        }
    }

    private func readInput(continuing: Bool) -> LineEditor.Input {
        if let editor {
            return editor.readLine(prompt: continuing ? Self.continuationPrompt : Self.prompt)
        }
        guard let line = Swift.readLine(strippingNewline: true) else { return .endOfInput }
        return .line(line)
    }

    private func rememberInHistory(_ statement: String) {
        guard interactive else { return }
        history.add(statement)
        if let problem = history.save(), !historyWarned {
            // Once per session: a read-only or missing home must not stop the shell, only be said.
            historyWarned = true
            err.write(errorStyle.dim("mrsh: \(problem)") + "\n")
        }
    }

    /// The text after `:` when `line` is a shell command.
    static func commandText(_ line: String) -> Substring? {
        let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
        guard trimmed.first == ":" else { return nil }
        return trimmed.dropFirst()
    }

    /// Runs one shell command line (without its colon).
    func dispatch(_ text: Substring) async -> ShellCommand.Outcome {
        let name = String(text.prefix(while: { !$0.isWhitespace }))
        let argument = text.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        guard let command = ShellCommand.named(name) else {
            var message = name.isEmpty ? "missing command after ':'" : "unknown command :\(name)"
            if let near = Suggestion.nearest(to: name, among: ShellCommand.names) {
                message += "; did you mean :\(near)?"
            } else {
                message += " (:help lists the commands)"
            }
            return reportError(message)
        }
        return await command.handler(self, argument)
    }

    /// Runs statements on the backend; Ctrl-C cancels them.
    @discardableResult
    func execute(_ source: String, sourceName: String? = nil) async -> ShellStatus {
        let output = ReplOutput(presentation(), out: out, err: err)
        let status = await runCancellable(source, sourceName: sourceName ?? self.sourceName, output: output)
        output.finish(cancelled: status == .cancelled)
        if status == .cancelled { err.write(errorStyle.yellow("cancelled") + "\n") }
        await refreshNames()
        return status
    }

    /// Runs `source` on the backend; in interactive mode Ctrl-C fires its cancellation.
    func runCancellable(_ source: String, sourceName: String, output: any ShellOutput) async -> ShellStatus {
        let cancellation = CancellationFlag()
        if interactive {
            InterruptMonitor.shared.onInterrupt { _ in cancellation.cancel() }
            InterruptMonitor.shared.catchingTerminate(true)
        }
        let status = await backend.execute(source, sourceName: sourceName, output: output, cancellation: cancellation)
        if interactive {
            InterruptMonitor.shared.catchingTerminate(false)
            InterruptMonitor.shared.onInterrupt(nil)
        }
        return cancellation.isCancelled ? .cancelled : status
    }

    func presentation(limit: Int? = nil) -> ReplOutput.Presentation {
        let table = interactive && terminal.outputIsTerminal
        return ReplOutput.Presentation(
            table: table, limit: limit ?? self.limit, width: table ? Terminal.width(fd: 1) : nil,
            style: style, errorStyle: errorStyle, progress: interactive && terminal.errorIsTerminal, quiet: quiet)
    }

    /// Shows a command's mistake through the one renderer (`mrsh: error: ...`) and returns the outcome that
    /// ends a script with its status; the interactive shell goes on.
    @discardableResult
    func reportError(_ message: String) -> ShellCommand.Outcome {
        report(Failure(message, status: .scriptError))
    }

    @discardableResult
    func report(_ failure: Failure) -> ShellCommand.Outcome {
        err.write(failure.line(style: errorStyle))
        return .failed(failure.status.rawValue)
    }

    private func refreshNames() async {
        bindings = await backend.bindingNames()
        optionNames = ["limit"] + (await backend.options()).map(\.name)
        editor?.completer = Completer(bindings: bindings, commands: ShellCommand.names, options: optionNames)
    }
}

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
    /// The last statement that ran and parsed as one pipeline (not ending in `write`): what `| stage` extends.
    private(set) var lastPipeline: String?
    /// The last statement that ran (what `:edit` opens).
    var lastStatement: String?
    /// The rows of the last result (for `:chart`).
    var lastResult: ResultTable?
    /// `:mode`: how results are shown.
    var format: OutputFormat
    /// Ask the terminal for bracketed paste (not on TERM=dumb).
    private let bracketedPaste: Bool
    /// Whether `:chart`'s hint was given this session (it is given once).
    private var chartHinted = false

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
        format = configuration.format
        bracketedPaste = configuration.environment["TERM"] != "dumb"
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
            editor = LineEditor(
                program: "mrsh", history: history, completer: Completer(), output: out,
                bracketedPaste: bracketedPaste)
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
        // `buffer` is complete, but more lines arrived with it (a paste, lines typed ahead): it runs once
        // those lines are read, unless they continue it (a line starting with `|`), as in a script.
        var deferred = false
        while true {
            // SIGTERM or SIGHUP during a statement: it was cancelled and cleaned up; leave as the signal asked.
            if interactive, let number = InterruptMonitor.shared.terminateRequested {
                return ExecutionStatus(endedBy: number).rawValue
            }
            let input = readInput(continuing: !buffer.isEmpty, deferred: deferred)
            let line: String
            switch input {
            case .interrupted:
                buffer = ""
                deferred = false
                continue
            case .endOfInput:
                if interactive {
                    if deferred { await runStatement(buffer) }
                    out.write("\n")
                    return 0
                }
                // A script that ends inside a statement: let the session report what is missing.
                if !buffer.isEmpty {
                    let status = await execute(buffer)
                    if case .failed(let code) = status { return code }
                }
                return 0
            case .pasteEnded:
                if deferred {
                    deferred = false
                    let statement = buffer
                    buffer = ""
                    await runStatement(statement)
                }
                continue
            case .line(let text):
                line = text
            }
            if deferred {
                deferred = false
                if !(Self.startsWithPipe(line) || StatementCompleteness(of: line) == .empty) {
                    // A new statement: the held one runs first, then this line is read on its own.
                    let statement = buffer
                    buffer = ""
                    await runStatement(statement)
                }
            }
            if buffer.isEmpty {
                if let command = Self.commandText(line) {
                    rememberInHistory(line)
                    switch await dispatch(command) {
                    case .proceed: continue
                    case .quit: return 0
                    case .failed(let code): if !interactive { return code }
                    }
                    continue
                }
                if interactive && Self.startsWithPipe(line) {
                    // `| stage` at the prompt: extends the last pipeline that ran.
                    guard let previous = lastPipeline else {
                        reportError(
                            "nothing to extend: a line starting with '|' adds a stage to the last pipeline that ran, "
                                + "and none has yet (start with an operator, such as: read logs/* | count)")
                        continue
                    }
                    buffer = Self.extend(previous, with: line)
                    err.write(errorStyle.dim(buffer) + "\n")
                } else {
                    buffer = line
                }
            } else if interactive, let command = Self.commandText(line), ["edit", "e"].contains(command.trimmingCharacters(in: .whitespaces)),
                Lexer.tokenize(buffer).last(where: { $0.kind != .newline && $0.kind != .endOfInput })?.kind != .invalid(.unterminatedString)
            {
                // `:edit` at the continuation prompt: the statement typed so far goes to the editor.
                let current = buffer
                buffer = ""
                rememberInHistory(line)
                _ = await edit(statement: current)
                continue
            } else {
                buffer += "\n" + line
            }
            // A script read line by line keeps asking for more after a trailing `|`: its error is reported
            // when the input ends, as `mrsh run` reports it.
            let completeness =
                interactive ? StatementCompleteness(of: buffer, knownBindings: Set(bindings)) : StatementCompleteness(of: buffer)
            switch completeness {
            case .empty:
                buffer = ""
            case .incomplete:
                continue
            case .invalid:
                // An error already certain: reported now with its caret, instead of a continuation prompt.
                let statement = buffer
                buffer = ""
                await runStatement(statement)
            case .complete:
                if interactive, let editor, editor.morePending() {
                    deferred = true
                    continue
                }
                let statement = buffer
                buffer = ""
                let status = await runStatement(statement)
                if !interactive, case .failed(let code) = status { return code }
            }
        }
    }

    /// Remembers `statement` in history, runs it, and keeps it as the pipeline a `| stage` line extends when
    /// it is one pipeline that parses.
    @discardableResult
    func runStatement(_ statement: String) async -> ShellStatus {
        rememberInHistory(statement)
        let known = Set(bindings)
        let status = await execute(statement)
        if case .success(let script) = parseScript(statement, knownBindings: known), script.statements.count == 1,
            case .run(let pipeline) = script.statements[0]
        {
            if case .write = pipeline.stages.last?.op {} else { lastPipeline = statement }
        }
        lastStatement = statement
        return status
    }

    /// Whether `line` starts (after spaces) with `|`.
    static func startsWithPipe(_ line: String) -> Bool {
        line.drop(while: { $0 == " " || $0 == "\t" }).first == "|"
    }

    /// `previous` with the stage of `line` (`| take 5`) added: on the same line when `previous` is one line.
    static func extend(_ previous: String, with line: String) -> String {
        var base = Substring(previous)
        while let last = base.last, last.isWhitespace || last == ";" { base = base.dropLast() }
        let stage = line.drop(while: { $0 == " " || $0 == "\t" })
        return base.contains("\n") ? String(base) + "\n" + line : String(base) + " " + String(stage)
    }

    private func readInput(continuing: Bool, deferred: Bool) -> LineEditor.Input {
        if let editor {
            return editor.readLine(prompt: continuing ? Self.continuationPrompt : Self.prompt, submitOnPasteEnd: deferred)
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
        var presentation = presentation()
        presentation.chartHint = !chartHinted
        let output = ReplOutput(presentation, out: out, err: err)
        let status = await runCancellable(source, sourceName: sourceName ?? self.sourceName, output: output)
        output.finish(cancelled: status == .cancelled)
        let table = output.table
        if status == .success && table.totalRows > 0 {
            lastResult = table
            if presentation.table && ChartData.isOffered(for: table) { chartHinted = true }
        }
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
            style: style, errorStyle: errorStyle, progress: interactive && terminal.errorIsTerminal, quiet: quiet,
            format: format)
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
        editor?.completer = Completer(
            bindings: bindings, commands: ShellCommand.names, options: optionNames, fieldNames: await backend.fieldNames())
    }
}

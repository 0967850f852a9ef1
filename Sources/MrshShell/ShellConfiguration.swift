import Foundation

/// How `runInteractiveShell` behaves; the CLI fills it from its flags and the environment.
public struct ShellConfiguration: Sendable {
    /// Prompts, line editing and history (nil: when standard input is a terminal).
    public var interactive: Bool?
    /// The history file (nil: `$MRSH_HISTORY`, else `~/.mrsh_history`).
    public var historyPath: String?
    /// Rows shown before a result is cut (`:set limit N`).
    public var limit: Int
    /// No job summary lines.
    public var quiet: Bool
    /// How results are shown at first (`--format`; `:mode` changes it).
    public var format: OutputFormat
    public var environment: [String: String]
    /// The name diagnostics give to statements typed or piped in.
    public var sourceName: String

    public init(
        interactive: Bool? = nil, historyPath: String? = nil, limit: Int = 40, quiet: Bool = false,
        format: OutputFormat = .table, environment: [String: String] = ProcessInfo.processInfo.environment, sourceName: String = "<stdin>"
    ) {
        self.interactive = interactive
        self.historyPath = historyPath
        self.limit = limit
        self.quiet = quiet
        self.format = format
        self.environment = environment
        self.sourceName = sourceName
    }
}

/// Runs the shell on this process's standard input and output until Ctrl-D, `:quit` or end of input.
///
/// On a terminal: prompts, libedit line editing, history, completion and tables; an error never leaves
/// the shell and the status is 0. Otherwise standard input is read as a script, like `mrsh run -`:
/// no prompts or colours, plain `key<TAB>value` lines, and the first error stops it with its status.
public func runInteractiveShell(backend: any ShellBackend, configuration: ShellConfiguration = ShellConfiguration()) async -> Int32 {
    let repl = Repl(backend: backend, configuration: configuration)
    return await repl.run()
}

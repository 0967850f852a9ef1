/// One shell command (`:help`, `:set`, ...). The table `ShellCommand.all` drives dispatch, `:help`,
/// completion and "did you mean", so they cannot disagree.
struct ShellCommand: Sendable {
    /// What a command asks the loop to do next.
    enum Outcome: Sendable, Equatable {
        case proceed
        /// The command failed (its message was shown); a script stops with this status.
        case failed(Int32)
        case quit
    }

    /// The name without the colon.
    let name: String
    let aliases: [String]
    let usage: String
    let summary: String
    /// Runs the command with the text after its name (trimmed).
    let handler: @Sendable (Repl, String) async -> Outcome

    static let all: [ShellCommand] = [
        ShellCommand(
            name: "help", aliases: ["h", "?"], usage: ":help [OPERATOR|COMMAND]",
            summary: "List operators and commands, or explain one.", handler: { await $0.help($1) }),
        ShellCommand(
            name: "describe", aliases: [], usage: ":describe NAME",
            summary: "Show a sample of the records a let binding produces, with numbered fields.",
            handler: { await $0.describe($1) }),
        ShellCommand(
            name: "workers", aliases: [], usage: ":workers",
            summary: "List the workers, their state and tasks.", handler: { await $0.workers($1) }),
        ShellCommand(
            name: "report", aliases: [], usage: ":report FILE.html",
            summary: "Write the last job's report (stages, tasks, data rates, timeline) as one HTML file.",
            handler: { await $0.writeReport($1) }),
        ShellCommand(
            name: "login", aliases: [], usage: ":login",
            summary: "Print a new one-time login link of the status page (--status-listen).",
            handler: { await $0.login($1) }),
        ShellCommand(
            name: "set", aliases: [], usage: ":set [NAME VALUE]",
            summary: "List the options, or set one (limit, reducers, split-size, memory, broadcast-limit, backup-tasks).",
            handler: { await $0.set($1) }),
        ShellCommand(
            name: "mode", aliases: [], usage: ":mode [table|tsv|csv|json|markdown]",
            summary: "Show results as a table (default), TSV, CSV, JSON Lines or a markdown table.",
            handler: { await $0.mode($1) }),
        ShellCommand(
            name: "chart", aliases: [], usage: ":chart [FILE.svg]",
            summary: "Draw the last result (label, number) as a bar chart, or write it as SVG.",
            handler: { await $0.chart($1) }),
        ShellCommand(
            name: "edit", aliases: ["e"], usage: ":edit",
            summary: "Edit the last statement (or, at ..>, the one being typed) in $VISUAL or $EDITOR; run what is saved.",
            handler: { await $0.edit($1) }),
        ShellCommand(
            name: "history", aliases: [], usage: ":history",
            summary: "List the statements entered so far.", handler: { await $0.showHistory($1) }),
        ShellCommand(
            name: "run", aliases: [], usage: ":run FILE",
            summary: "Run the statements of a script file.", handler: { await $0.runFile($1) }),
        ShellCommand(
            name: "quit", aliases: ["q", "exit"], usage: ":quit",
            summary: "Leave the shell (Ctrl-D does too); history is saved.", handler: { _, _ in .quit }),
    ]

    static func named(_ name: String) -> ShellCommand? {
        all.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// A command name for completion and suggestions.
    static var names: [String] { all.map(\.name) }
}

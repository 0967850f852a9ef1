import MrshLanguage
import Foundation

/// The handlers of the shell commands in `ShellCommand.all`.
extension Repl {
    func help(_ argument: String) async -> ShellCommand.Outcome {
        let name = argument.hasPrefix(":") ? String(argument.dropFirst()) : argument
        if name.isEmpty {
            out.write(Self.overview(style: style))
            return .proceed
        }
        if let entry = ShellLanguage.entry(named: name) {
            out.write(style.bold(entry.usage) + "\n  " + entry.summary + "\n" + (entry.help.isEmpty ? "" : "\n" + entry.help + "\n"))
            return .proceed
        }
        if let command = ShellCommand.named(name) {
            out.write(style.bold(command.usage) + "\n  " + command.summary + "\n")
            return .proceed
        }
        let names = ShellLanguage.entries.map(\.name) + ShellCommand.names
        var message = "no help for '\(name)'"
        if let near = Suggestion.nearest(to: name, among: names) { message += "; did you mean '\(near)'?" }
        return reportError(message)
    }

    /// `:help` without an argument: every operator and command with its summary.
    static func overview(style: Style) -> String {
        var text = style.bold("Statements") + "  (a pipeline runs when complete; end a line with | to continue)\n"
        let entries = ShellLanguage.entries
        let usageWidth = entries.map { DisplayWidth.of($0.usage) }.max() ?? 0
        for entry in entries where !entry.isStage {
            text += "  " + entry.usage.padding(toLength: usageWidth, withPad: " ", startingAt: 0) + "  " + entry.summary + "\n"
        }
        text += style.bold("Operators") + "\n"
        for entry in entries where entry.isStage {
            text += "  " + entry.usage.padding(toLength: usageWidth, withPad: " ", startingAt: 0) + "  " + entry.summary + "\n"
        }
        text += style.bold("Commands") + "\n"
        let commandWidth = ShellCommand.all.map { DisplayWidth.of($0.usage) }.max() ?? 0
        for command in ShellCommand.all {
            text += "  " + command.usage.padding(toLength: commandWidth, withPad: " ", startingAt: 0) + "  " + command.summary + "\n"
        }
        text += style.dim("Keys: Tab completes, Up recalls a statement, Ctrl-C cancels a job or clears the line, Ctrl-D leaves.") + "\n"
        return text
    }

    func describe(_ argument: String) async -> ShellCommand.Outcome {
        let name = argument
        guard !name.isEmpty else {
            return reportError("usage: :describe NAME" + (bindings.isEmpty ? " (no let bindings yet)" : " (one of: \(bindings.joined(separator: ", ")))"))
        }
        guard bindings.contains(name) else {
            var message = "no binding named '\(name)'"
            if let near = Suggestion.nearest(to: name, among: bindings) { message += "; did you mean '\(near)'?" }
            else if bindings.isEmpty { message += " (define one with let NAME = PIPELINE)" }
            return reportError(message)
        }
        let sampleSize = 5
        var presentation = presentation(limit: sampleSize)
        presentation.table = true
        presentation.quiet = true
        let capture = ReplOutput(presentation, out: out, err: err)
        let status = await runCancellable("\(name) | take \(sampleSize)", sourceName: sourceName, output: capture)
        switch status {
        case .cancelled:
            capture.finish(cancelled: true)
            err.write(errorStyle.yellow("cancelled") + "\n")
            return .proceed
        case .failed(let code):
            capture.finish(cancelled: true)
            return .failed(code)
        case .success:
            capture.finish(cancelled: true)  // shows nothing: the sample is shown below
        }
        var table = capture.table
        table.finish()
        let fields = table.rows.map(\.count).max() ?? 0
        let header = (0..<fields).map { "[\($0 + 1)]" }
        let fieldWord = fields == 1 ? "field" : "fields"
        out.write(style.bold(name) + ": " + (table.rows.isEmpty ? "no records\n" : "\(fields) \(fieldWord), \(table.rows.count) sample records\n"))
        if !table.rows.isEmpty {
            let width = Terminal.width(fd: 1)
            let rendered = table.renderRows(width: width, header: header)
            // Too wide for the terminal: one field per line instead of a wrapped table.
            out.write(
                ExpandedView.overflows(rendered, width: width)
                    ? ExpandedView.render(table.rows, headerStyle: style.dim)
                    : table.renderRows(width: width, header: header, headerStyle: style.dim))
        }
        return .proceed
    }

    func workers(_ argument: String) async -> ShellCommand.Outcome {
        let list = await backend.workers()
        guard !list.isEmpty else {
            out.write("no workers\n")
            return .proceed
        }
        var table = ResultTable(limit: Int.max)
        for w in list { table.append(line: [w.name, w.state, String(w.running), String(w.completed), w.detail].joined(separator: "\t")) }
        out.write(table.renderRows(width: Terminal.width(fd: 1), header: ["worker", "state", "running", "done", ""], headerStyle: style.dim))
        return .proceed
    }

    func set(_ argument: String) async -> ShellCommand.Outcome {
        let parts = argument.split(whereSeparator: \.isWhitespace).map(String.init)
        let options = [ShellOption(name: "limit", value: String(limit), summary: "rows shown before a result is cut")]
            + (await backend.options())
        if parts.isEmpty {
            var table = ResultTable(limit: Int.max)
            for o in options { table.append(line: [o.name, o.value, o.summary].joined(separator: "\t")) }
            out.write(table.renderRows(width: Terminal.width(fd: 1)))
            return .proceed
        }
        guard parts.count == 2 else {
            return reportError("usage: :set NAME VALUE (:set alone lists the options)")
        }
        let (name, value) = (parts[0], parts[1])
        if name == "limit" {
            guard let n = Int(value), n >= 0 else {
                return reportError("limit must be a number of rows (0 or more), not '\(value)'")
            }
            limit = n
            return .proceed
        }
        guard options.contains(where: { $0.name == name }) else {
            var message = "unknown option '\(name)'"
            if let near = Suggestion.nearest(to: name, among: options.map(\.name)) { message += "; did you mean '\(near)'?" }
            return reportError(message + " (:set lists the options)")
        }
        if let failure = await backend.setOption(name, to: value) {
            return report(failure)
        }
        return .proceed
    }

    func showHistory(_ argument: String) async -> ShellCommand.Outcome {
        let entries = history.entries
        let width = String(entries.count).count
        for (i, entry) in entries.enumerated() {
            let number = String(i + 1)
            let lines = entry.split(separator: "\n", omittingEmptySubsequences: false)
            var text = String(repeating: " ", count: width - number.count) + style.dim(number) + "  " + (lines.first ?? "") + "\n"
            for line in lines.dropFirst() { text += String(repeating: " ", count: width + 2) + line + "\n" }
            out.write(text)
        }
        return .proceed
    }

    func runFile(_ argument: String) async -> ShellCommand.Outcome {
        guard !argument.isEmpty else {
            return reportError("usage: :run FILE")
        }
        let path = argument.hasPrefix("~/") ? NSHomeDirectory() + argument.dropFirst() : argument
        guard let data = FileManager.default.contents(atPath: path) else {
            return reportError("cannot read '\(argument)'")
        }
        let status = await execute(String(decoding: data, as: UTF8.self), sourceName: argument)
        if case .failed(let code) = status { return .failed(code) }
        return .proceed
    }
}

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
        text += "  A line that starts with | extends the last pipeline by that stage and runs it:\n"
        text += "    read \"logs/*\" | grep \"error\"   then   | reduce count   then   | sort by value desc\n"
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
        text += style.dim(
            "Keys: Tab completes, Up recalls a statement, Ctrl-R searches history, Ctrl-C cancels a job or clears the line, "
                + "Ctrl-D leaves. Pasted lines run as one script.") + "\n"
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
        presentation.format = .table
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
        let names = capture.namedFields ?? []
        let header = (0..<fields).map { $0 < names.count ? "[\($0 + 1)] \(names[$0])" : "[\($0 + 1)]" }
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

    func writeReport(_ argument: String) async -> ShellCommand.Outcome {
        guard !argument.isEmpty else { return reportError("usage: :report FILE.html") }
        if let failure = await backend.writeReport(to: argument) { return report(failure) }
        out.write("wrote \(argument)\n")
        return .proceed
    }

    func login(_ argument: String) async -> ShellCommand.Outcome {
        guard argument.isEmpty else { return reportError("usage: :login") }
        switch await backend.newLoginLink() {
        case .success(let url): out.write(url + "\n")
        case .failure(let failure): return report(failure)
        }
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

/// `:mode`, `:chart` and `:edit`.
extension Repl {
    func mode(_ argument: String) async -> ShellCommand.Outcome {
        let names = OutputFormat.allCases.map(\.rawValue)
        guard !argument.isEmpty else {
            out.write("mode: \(format.rawValue) (one of: \(names.joined(separator: ", ")))\n")
            return .proceed
        }
        guard let chosen = OutputFormat(rawValue: argument.lowercased()) else {
            var message = "unknown mode '\(argument)'"
            if let near = Suggestion.nearest(to: argument, among: names) { message += "; did you mean '\(near)'?" }
            reportError(message + " (one of: \(names.joined(separator: ", ")))")
            return .failed(2)
        }
        format = chosen
        return .proceed
    }

    func chart(_ argument: String) async -> ShellCommand.Outcome {
        guard let table = lastResult else {
            reportError("no result to chart yet: run a query whose records are a label and a number, such as "
                + "read \"logs/*\" | map words | reduce count | sort by value desc | take 10")
            return .failed(2)
        }
        guard let data = ChartData(table) else {
            let columns = table.rows.map(\.count).max() ?? 0
            reportError("the last result cannot be charted: :chart needs two columns, a label and a number "
                + "(it has \(columns) column\(columns == 1 ? "" : "s")\(columns == 2 ? " and a second that is not always a number" : ""))")
            return .failed(2)
        }
        let note = data.omitted > 0 ? "the first \(data.bars.count) of \(table.totalRows) rows (:set limit N to chart more)" : nil
        if argument.isEmpty {
            out.write(data.renderText(width: (Terminal.width(fd: 1) ?? 80) - 1))
            if let note { err.write(errorStyle.dim(note) + "\n") }
            return .proceed
        }
        let path = argument.hasPrefix("~/") ? NSHomeDirectory() + argument.dropFirst() : argument
        guard path.lowercased().hasSuffix(".svg") else {
            reportError("usage: :chart [FILE.svg] (the file name must end in .svg)")
            return .failed(2)
        }
        let title = lastStatement.map { $0.replacingOccurrences(of: "\n", with: " ") } ?? "mrsh"
        do {
            try Data(data.renderSVG(title: title).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            reportError("cannot write '\(argument)': \((error as NSError).localizedDescription)")
            return .failed(1)
        }
        out.write("wrote \(argument) (\(data.bars.count) bars)\n")
        if let note { err.write(errorStyle.dim(note) + "\n") }
        return .proceed
    }

    /// `:edit`: the last statement in the editor.
    func edit(_ argument: String) async -> ShellCommand.Outcome {
        await edit(statement: lastStatement ?? "")
    }

    /// Opens `$VISUAL` (else `$EDITOR`, else `vi`) on `initial` in a temporary file, as psql's `\e` does, and
    /// runs what was saved (nothing when it is empty).
    func edit(statement initial: String) async -> ShellCommand.Outcome {
        let environment = ProcessInfo.processInfo.environment
        let editor = [environment["VISUAL"], environment["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty } ?? "vi"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-edit-\(UUID().uuidString).mr")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try Data((initial.isEmpty ? "" : initial + "\n").utf8).write(to: file)
        } catch {
            reportError("cannot write a temporary file for the editor: \((error as NSError).localizedDescription)")
            return .failed(1)
        }
        // Through the shell, so that EDITOR may hold arguments ("code --wait"); the file is its $1.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", editor + " \"$1\"", "sh", file.path]
        do {
            try process.run()
        } catch {
            reportError("cannot start the editor '\(editor)': \((error as NSError).localizedDescription)")
            return .failed(1)
        }
        // The shell waits for its editor as it waits at the prompt: on this thread.
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            reportError("the editor '\(editor)' exited with status \(process.terminationStatus); nothing was run")
            return .failed(1)
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            reportError("the editor left no file; nothing was run")
            return .failed(1)
        }
        var text = Substring(String(decoding: data, as: UTF8.self))
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        guard StatementCompleteness(of: String(text)) != .empty else {
            err.write(errorStyle.dim("empty: nothing was run") + "\n")
            return .proceed
        }
        let statement = String(text)
        out.write(statement + "\n")
        let status = await runStatement(statement)
        if case .failed(let code) = status { return .failed(code) }
        return .proceed
    }
}

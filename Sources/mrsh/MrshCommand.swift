import ArgumentParser
import Foundation
import MrshShell

/// `mrsh`: the shell, a one-shot statement (`-e`), or a subcommand.
struct MrshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrsh",
        abstract: "A MapReduce shell: pipelines of text operators run on a MapReduce engine.",
        discussion: """
            Without arguments on a terminal, mrsh starts the interactive shell; when standard input is not a \
            terminal, it reads a script from it.

            Exit status: 0 success, 2 a usage or script error (nothing ran), 1 a job that failed at run time.

            Example: mrsh -e 'read "logs/*" | map words | reduce count | sort by value desc | take 10'
            """,
        subcommands: [RunCommand.self, CoordinatorCommand.self, WorkerCommand.self, TokenCommand.self]
    )

    @Option(name: [.short, .customLong("execute")], help: ArgumentHelp("Run one statement and exit.", valueName: "statement"))
    var execute: String?

    @OptionGroup var options: GlobalOptions

    func run() async throws(Failure) {
        let status: ExecutionStatus
        if let execute {
            status = await Launcher(options: options).runScript(execute, sourceName: "<command line>")
        } else {
            status = await Launcher(options: options).runShell()
        }
        if status != .success { throw Failure.exit(status) }
    }
}

/// `mrsh run FILE`: runs a script.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a script of mrsh statements ('-' reads it from standard input)."
    )

    @Argument(help: ArgumentHelp("The script to run.", valueName: "file.mr"))
    var file: String

    @OptionGroup var options: GlobalOptions

    func run() async throws(Failure) {
        let launcher = Launcher(options: options)
        let source = try ScriptFile.read(file)
        let status = await launcher.runScript(source, sourceName: file == "-" ? "<stdin>" : file, scriptFromStandardInput: file == "-")
        if status != .success { throw Failure.exit(status) }
    }
}

/// Reads a script file, with errors that name the file (script errors: nothing ran).
enum ScriptFile {
    static func read(_ path: String) throws(Failure) -> String {
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            return String(decoding: data, as: UTF8.self)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure("cannot read script '\(path)': no such file", status: .scriptError)
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw Failure(
                "cannot read script '\(path)': \(isDirectory.boolValue ? "it is a directory" : "permission denied")",
                status: .scriptError)
        }
        return String(decoding: data, as: UTF8.self)
    }
}

import ArgumentParser
import MrshShell
import MrshWire

/// `mrsh token FILE`: writes a new random cluster token, readable only by its owner.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Write a new random cluster token to a file only you can read.",
        discussion: """
            The file gets mode 0600 and 64 random hexadecimal characters; an existing file is never replaced.
            Give it to `mrsh coordinator`, `mrsh worker` and `mrsh --cluster` with --token-file, the same file
            on every machine. Token files that other users can read, and tokens shorter than \
            \(AuthToken.minimumLength) characters, are refused.
            """
    )

    @Argument(help: ArgumentHelp("The token file to create.", valueName: "file"))
    var file: String

    func run() throws {
        do {
            try AuthToken.writeNew(to: file)
        } catch {
            throw Failure(error.description, status: .runtimeError)
        }
    }
}

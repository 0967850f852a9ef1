import ArgumentParser
import MrshShell
import MrshWeb
import MrshWire

/// `mrsh token FILE`: writes a new random cluster token, readable only by its owner. `--metrics-key` prints
/// the status page's `/metrics` bearer key of the token in FILE instead.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Write a new random cluster token to a file only you can read.",
        discussion: """
            The file gets mode 0600 and 64 random hexadecimal characters; an existing file is never replaced.
            Give it to `mrsh coordinator`, `mrsh worker` and `mrsh --cluster` with --token-file, the same file
            on every machine. Token files that other users can read, and tokens shorter than \
            \(AuthToken.minimumLength) characters, are refused.

            With --metrics-key, FILE is an existing token file: prints the key a scraper sends to a status page \
            of that cluster (Authorization: Bearer KEY) to read /metrics.
            """
    )

    @Argument(help: ArgumentHelp("The token file to create (with --metrics-key: to read).", valueName: "file"))
    var file: String

    @Flag(name: .customLong("metrics-key"), help: "Print the /metrics bearer key of the token in FILE.")
    var metricsKey = false

    func run() throws {
        if metricsKey {
            do {
                print(StatusServer.metricsKey(for: try AuthToken(contentsOfFile: file)))
            } catch {
                throw Failure(error.description, status: .runtimeError)
            }
            return
        }
        do {
            try AuthToken.writeNew(to: file)
        } catch {
            throw Failure(error.description, status: .runtimeError)
        }
    }
}

import ArgumentParser
import Foundation
import MrshShell

// One place decides every exit status: 0 success, 2 usage or script error, 1 a job that failed.
signal(SIGPIPE, SIG_IGN)
do {
    // Dispatch by type: calling `run()` on an existential picks ParsableCommand's synchronous default.
    switch try MrshCommand.parseAsRoot() {
    case let command as MrshCommand: try await command.run()
    case let command as RunCommand: try await command.run()
    case let command as CoordinatorCommand: try await command.run()
    case let command as WorkerCommand: try await command.run()
    case var command: try command.run()
    }
    exit(0)
} catch {
    let code = MrshCommand.exitCode(for: error)
    let message = MrshCommand.fullMessage(for: error)
    if code == .success {
        if !message.isEmpty { StandardOutput.write(message + "\n") }
        exit(0)
    }
    if !message.isEmpty { StandardError.write(message + "\n") }
    // ArgumentParser reports usage errors as EX_USAGE (64); mrsh's contract says 2.
    exit(code == .validationFailure ? 2 : code.rawValue)
}

import ArgumentParser
import Foundation
import Logging
import CMrshShims
import MrshShell

// One place decides every exit status: 0 success, 2 usage or script error, 1 a job that failed (a thrown
// `Failure` carries its message and status, `Failure.init(_:)` maps every other error; SIGINT cancels and
// exits 1, SIGTERM ends the process by that signal after cleaning up, see `InterruptMonitor`).
signal(SIGPIPE, SIG_IGN)

// Tasks grow tables and buffers by doubling and free them at the end: with glibc's defaults every block over
// 128 KiB is its own mmap, so each growth and each task pays fresh page faults and an munmap. Keeping blocks
// up to 32 MiB in the heap (and up to 64 MiB of free heap) cut the CPU of a 1 MB word count by ~12 ms (of
// ~65) and of a 256 MiB one by ~7%. Peak memory is unchanged: this only changes when freed memory returns
// to the system, and `--memory` still bounds what a task holds.
mrsh_keep_freed_memory(32 << 20, 64 << 20)

// Logs go to standard error: warnings by default (a long-lived coordinator or worker: its info log of
// workers and tasks), every task's trace with --verbose or MRSH_VERBOSE=1.
let verbose = CommandLine.arguments.contains("--verbose")
    || ProcessInfo.processInfo.environment["MRSH_VERBOSE"].map { $0 != "" && $0 != "0" } == true
let quietLevel: Logger.Level = ["coordinator", "worker"].contains(CommandLine.arguments.dropFirst().first ?? "") ? .info : .warning
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = verbose ? .debug : quietLevel
    return handler
}

// `worker` and `coordinator` share option names with the root command (`--token-file`), which the root would
// claim: parse them as commands of their own.
let subcommandArguments = Array(CommandLine.arguments.dropFirst())
let standalone: (any ParsableCommand.Type)? =
    switch subcommandArguments.first {
    case "worker": WorkerCommand.self
    case "coordinator": CoordinatorCommand.self
    default: nil
    }
do {
    let parsed: any ParsableCommand
    if let standalone {
        parsed = try standalone.parse(Array(subcommandArguments.dropFirst()))
    } else {
        parsed = try MrshCommand.parseAsRoot()
    }
    // Dispatch by type: calling `run()` on an existential picks ParsableCommand's synchronous default.
    switch parsed {
    case let command as MrshCommand: try await command.run()
    case let command as RunCommand: try await command.run()
    case let command as CoordinatorCommand: try await command.run()
    case let command as WorkerCommand: try await command.run()
    case var command: try command.run()
    }
    exit(0)
} catch let failure as Failure {
    TerminalWriter.standardError.write(failure.line)
    exit(failure.status.rawValue)
} catch {
    let code = (standalone ?? MrshCommand.self).exitCode(for: error)
    let message = (standalone ?? MrshCommand.self).fullMessage(for: error)
    if code == .success {
        if !message.isEmpty { TerminalWriter.standardOutput.write(message + "\n") }
        exit(0)
    }
    if !message.isEmpty { TerminalWriter.standardError.write(message + "\n") }
    // ArgumentParser reports usage errors as EX_USAGE (64); mrsh's contract says 2.
    exit(code == .validationFailure ? 2 : code.rawValue)
}

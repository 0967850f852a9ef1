import ArgumentParser
import Foundation
import Logging
import CMrshShims
import MrshShell
import MrshSpark

// One place decides every message and exit status: `Failure` (MrshShell/Failure.swift). 0 success, 2 usage or
// script error, 1 a job that failed (a cancelled one too: SIGINT cancels and exits 1 with "job cancelled"),
// 143 or 129 (the process ends by SIGTERM or SIGHUP) after that signal cancelled and cleaned up; every path
// ends with `end()`.
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
// What a Spark task runs (`MrshSpark.SparkTask`): hidden, not a command a user types.
if subcommandArguments.first == "spark-task" {
    exit(await SparkTask.main(Array(subcommandArguments.dropFirst())))
}
let standalone: (any ParsableCommand.Type)? =
    switch subcommandArguments.first {
    case "worker": WorkerCommand.self
    case "coordinator": CoordinatorCommand.self
    default: nil
    }
let rootType = standalone ?? MrshCommand.self
let parsed: any ParsableCommand
do {
    if let standalone {
        parsed = try standalone.parse(Array(subcommandArguments.dropFirst()))
    } else {
        parsed = try MrshCommand.parseAsRoot()
    }
} catch {
    // A command line the parser refused (status 2: ArgumentParser's own EX_USAGE is not mrsh's contract), or
    // the help that was asked for (status 0, on standard output), in the parser's words.
    Failure.usage(rootType.fullMessage(for: error), helpRequested: rootType.exitCode(for: error) == .success).end()
}
let program = standalone == nil ? "mrsh" : "mrsh " + (subcommandArguments.first ?? "")
do {
    // Dispatch by type: calling `run()` on an existential picks ParsableCommand's synchronous default.
    switch parsed {
    case let command as MrshCommand: try await command.run()
    case let command as RunCommand: try await command.run()
    case let command as CoordinatorCommand: try await command.run()
    case let command as WorkerCommand: try await command.run()
    case let command as TokenCommand: try command.run()
    case var command:
        // The parser's own commands (`help`, and what `--help` parses to) answer with the parser's text.
        do {
            try command.run()
        } catch {
            Failure.usage(rootType.fullMessage(for: error), helpRequested: rootType.exitCode(for: error) == .success).end()
        }
    }
    Failure.exit(.success).end()
} catch let code as ExitCode {
    Failure.exit(code.isSuccess ? .success : .runtimeError).end()
} catch {
    // Every other error a command throws is said and mapped to its status by the one renderer.
    Failure(error, program: program).end()
}

import ArgumentParser
import CMrshShims
import Foundation
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshShell
import MrshWire
import NIOPosix

/// `mrsh worker --join HOST:PORT --token-file FILE`: a worker process of a cluster.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Join a coordinator and run its tasks.",
        discussion: """
            Connects to the coordinator, proves the token, registers its task slots and the address of its \
            shuffle server, and runs tasks until the coordinator goes away (it retries for --retry seconds, then \
            exits). Its map outputs stay meanwhile: a coordinator restarted with --state-dir keeps those of the \
            job it resumes. A wrong token exits with status 1.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The coordinator's address.", valueName: "host:port"))
    var join: String

    @Option(name: .long, help: ArgumentHelp("File holding the cluster's token.", valueName: "file"))
    var tokenFile: String

    @Option(name: .long, help: "Tasks run at the same time (default: the number of cores).")
    var slots: Int?

    @Option(name: .long, help: ArgumentHelp("Directory for map output and fetched data (default: a new one under $TMPDIR).", valueName: "dir"))
    var scratch: String?

    @Option(name: .long, help: ArgumentHelp("Interface of the shuffle server (0.0.0.0: all).", valueName: "host"))
    var listen: String = "127.0.0.1"

    @Option(name: .long, help: "Worker id proposed to the coordinator (default: host name and pid).")
    var id: String?

    @Option(name: .long, help: "Seconds to keep retrying when the coordinator connection is lost.")
    var retry = SecondsArgument(.seconds(5))

    @Flag(name: .long, help: "Run the shell commands of `stream` (with /bin/sh, as this worker's user).")
    var allowStream = false

    @Option(name: .long, help: .hidden)
    var embeddedParent: Int32?

    /// Read by main.swift before parsing (every log at debug level); here so that parsing accepts it.
    @Flag(name: .long, help: "Trace tasks on standard error (or MRSH_VERBOSE=1), stream commands' standard error too.")
    var verbose = false

    func run() async throws {
        // What an embedded worker removes when its client died without cleaning up.
        let leftovers = Self.embeddedLeftovers(tokenFile: tokenFile, scratch: scratch)
        if let parent = embeddedParent {
            // Die with the embedding process, even when it is SIGKILLed. Not PR_SET_PDEATHSIG: its "parent"
            // is the *thread* that spawned this process (prctl(2)), and the embedding process's thread pool
            // retires idle threads, which killed workers in the middle of jobs. Poll the parent instead.
            // A SIGKILLed client cannot clean up: its workers remove the cluster directory it made.
            if getppid() != parent {
                Self.remove(leftovers)
                throw ExitCode(1)
            }
            Thread.detachNewThread {
                while getppid() == parent { usleep(50_000) }
                Self.remove(leftovers)
                _exit(1)
            }
            // Ctrl-C reaches the whole foreground process group: the embedding client cancels the job itself.
            signal(SIGINT, SIG_IGN)
            // So does a terminal's hangup: outlive it by the 50 ms the watcher needs to see the client gone
            // and remove the cluster directory, instead of dying with the job's files in place.
            signal(SIGHUP, SIG_IGN)
            // And a SIGTERM sent to the group (`timeout`, a service manager): the client cancels the job and
            // removes its output; the watcher above ends this process when the client is gone.
            signal(SIGTERM, SIG_IGN)
        }
        guard let address = HostPort(join) else {
            throw Failure("--join expects HOST:PORT, got '\(join)'", status: .scriptError, program: "mrsh worker")
        }
        let token: AuthToken
        do {
            token = try AuthToken(contentsOfFile: tokenFile)
        } catch {
            throw Failure(error.description, status: .scriptError, program: "mrsh worker")
        }
        let scratchDirectory: String
        if let scratch {
            scratchDirectory = scratch
            // An embedded worker's scratch lives in its client's cluster directory: never recreate that directory
            // after the client died and it was removed.
            try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: embeddedParent == nil)
        } else {
            do {
                scratchDirectory = try FileIO.makeUniqueTemporaryDirectory(prefix: "mrsh-worker-\(getpid())")
            } catch {
                throw Failure("cannot make the scratch directory: \(error)", status: .runtimeError, program: "mrsh worker")
            }
        }
        defer { if scratch == nil || embeddedParent != nil { try? FileManager.default.removeItem(atPath: scratchDirectory) } }
        if embeddedParent == nil {
            // A standalone worker stopped by SIGTERM, SIGINT or SIGHUP removes the directory it made, then ends by
            // that signal (an embedded one ignores them: its client cleans up).
            let madeScratch = scratch == nil ? scratchDirectory : nil
            InterruptMonitor.endingProcessAfter { if let madeScratch { FileIO.removeTree(madeScratch) } }
        }
        defer {
            // The connection ended because the client died (it never cleaned up): remove what it left. A dying
            // process's sockets close before its children are given to a new parent, so give getppid() up to
            // 2 s to change; a client that is alive and shutting down SIGKILLs this process meanwhile.
            if let parent = embeddedParent, Self.parentGone(parent, within: .seconds(2)) { Self.remove(leftovers) }
        }
        var logger = Logger(label: "mrsh.worker")
        if embeddedParent != nil { logger.logLevel = .error }
        let workerID = id ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let options = WorkerOptions(
            coordinator: address, token: token, slots: slots ?? ProcessInfo.processInfo.activeProcessorCount,
            scratch: scratchDirectory, listenHost: listen, id: workerID,
            shuffleHooks: ShuffleServer.Hooks(
                corruptFirstBlock: ProcessInfo.processInfo.environment["MRSH_TEST_CORRUPT_SHUFFLE"] == workerID,
                stopOnMapOutputFetch: ProcessInfo.processInfo.environment["MRSH_TEST_STOP_ON_FETCH"] == workerID),
            allowStream: allowStream)
        // A `stream` command's standard error lines: the worker's log at debug level (shown with --verbose or
        // MRSH_VERBOSE=1, which embedded workers inherit).
        let handler: EngineTaskHandler
        do {
            handler = try EngineTaskHandler(
                scratch: scratchDirectory, slowdown: WorkerCommand.testSlowdown(id: options.id),
                stream: .loggingToDebug(allowed: allowStream))
        } catch {
            throw Failure("cannot use scratch directory '\(scratchDirectory)': \(error)", status: .runtimeError, program: "mrsh worker")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clock = ContinuousClock()
        var lostSince: ContinuousClock.Instant?
        var registeredOnce = false
        while true {
            do {
                let end = try await WorkerNode.run(options: options, handler: handler, group: group, logger: logger)
                registeredOnce = true
                if embeddedParent != nil { break }
                if case .connectionLost(let why) = end { logger.warning("coordinator connection lost: \(why)") }
                lostSince = clock.now
            } catch WireError.authenticationFailed {
                throw Failure("the coordinator at \(address) refused the token (authentication failed)", status: .runtimeError, program: "mrsh worker")
            } catch WireError.serverNotAuthenticated {
                throw Failure(
                    "the server at \(address) did not prove the cluster's token: not this cluster's coordinator, or "
                        + "its token file differs (authentication failed; nothing it sent was run)",
                    status: .runtimeError, program: "mrsh worker")
            } catch {
                if embeddedParent != nil && registeredOnce { break }
                let since = lostSince ?? clock.now
                lostSince = since
                if clock.now - since > retry.duration {
                    throw Failure("cannot reach the coordinator at \(address): \(error)", status: .runtimeError, program: "mrsh worker")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

extension WorkerCommand {
    /// What an embedded worker removes when its client died without cleaning up: its scratch directory and
    /// the client's cluster directory (`$TMPDIR/mrsh-cluster-XXXXXX`, which holds the token file), recognised
    /// by name so that a token file elsewhere is never touched.
    static func embeddedLeftovers(tokenFile: String, scratch: String?) -> [String] {
        let directory = (tokenFile as NSString).deletingLastPathComponent
        let isClusterDirectory = (directory as NSString).lastPathComponent.hasPrefix("mrsh-cluster-")
        return (scratch.map { [$0] } ?? []) + (isClusterDirectory ? [directory] : [])
    }

    /// True once this process's parent is no longer `parent`, checked every 10 ms for `time`.
    static func parentGone(_ parent: Int32, within time: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + time
        while getppid() == parent {
            if clock.now >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Every embedded worker of a dead client removes the same cluster directory at the same moment: the
    /// removal must not stop at an entry another worker removed first (that left an empty directory).
    static func remove(_ paths: [String]) {
        for path in paths { FileIO.removeTree(path) }
    }

    /// Test hooks, read only by workers: `MRSH_TEST_SLOW_WORKER=<worker id>:<ms per record>` slows map tasks
    /// of that worker (`*`: every worker); `MRSH_TEST_CORRUPT_SHUFFLE=<worker id>` makes that worker's shuffle
    /// server flip a bit in the first block of every fetch; `MRSH_TEST_STOP_ON_FETCH=<worker id>` makes that
    /// worker stop itself (SIGSTOP) when a peer first fetches one of its map outputs.
    static func testSlowdown(id: String) -> Double {
        guard let value = ProcessInfo.processInfo.environment["MRSH_TEST_SLOW_WORKER"] else { return 0 }
        let fields = value.split(separator: ":")
        guard fields.count == 2, fields[0] == id || fields[0] == "*", let ms = Double(fields[1]), ms > 0 else { return 0 }
        return ms
    }
}

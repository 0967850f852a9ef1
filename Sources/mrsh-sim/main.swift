import Foundation
import MrshSim

/// `mrsh-sim run [options]`: one simulated job; `mrsh-sim suite [--quick] [--out FILE]`: the scale table of
/// docs/SCALE.md (one JSON line per run in FILE). See `bench/sim.sh`.
let usage = """
    usage: mrsh-sim run [--transport memory|loopback] [--workers N] [--slots N] [--maps M] [--reduces R]
                        [--map-ms X] [--reduce-ms X] [--stragglers F] [--kill F] [--kill-at F] [--seed N]
                        [--heartbeat-ms X] [--no-backup-tasks]
           mrsh-sim suite [--quick] [--out FILE.jsonl]
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

func parse(_ arguments: ArraySlice<String>) -> SimConfig {
    var config = SimConfig()
    var rest = arguments
    func value(_ flag: String) -> String {
        guard let next = rest.popFirst() else { fail("\(flag) needs a value\n\(usage)") }
        return next
    }
    func number(_ flag: String) -> Double {
        guard let parsed = Double(value(flag)) else { fail("\(flag) needs a number\n\(usage)") }
        return parsed
    }
    while let flag = rest.popFirst() {
        switch flag {
        case "--transport":
            guard let transport = SimConfig.Transport(rawValue: value(flag)) else { fail(usage) }
            config.transport = transport
        case "--workers": config.workers = Int(number(flag))
        case "--slots": config.slots = Int(number(flag))
        case "--maps": config.maps = Int(number(flag))
        case "--reduces": config.reduces = Int(number(flag))
        case "--map-ms": config.mapMilliseconds = number(flag)
        case "--reduce-ms": config.reduceMilliseconds = number(flag)
        case "--stragglers": config.stragglerWorkers = number(flag)
        case "--kill": config.killFraction = number(flag)
        case "--kill-at": config.killAt = number(flag)
        case "--seed": config.seed = UInt64(number(flag))
        case "--heartbeat-ms": config.heartbeatMilliseconds = number(flag)
        case "--no-backup-tasks": config.backupTasks = false
        default: fail("unknown option \(flag)\n\(usage)")
        }
    }
    return config
}

func line(_ r: SimResult) -> String {
    func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
    let c = r.config
    var cells = [
        c.transport.rawValue, "\(c.workers)x\(c.slots)", "\(c.maps)", "\(c.reduces)",
        c.killFraction > 0 ? "\(r.killed) at \(Int(c.killAt * 100))%" : "-",
        f(r.seconds, 2), f(r.idealSeconds, 2), f(r.overIdeal, 2),
        f(r.decisionsPerSecond, 0), f(r.decisionsPerBusySecond, 0), f(r.schedulerBusyShare * 100, 0) + "%",
    ]
    cells.append(r.coordinatorBytes.map { f($0 / 1048576, 0) + " MiB" } ?? "-")
    cells.append(r.bytesPerTask.map { f($0, 0) } ?? "-")
    cells.append(r.bytesPerPair.map { f($0, 3) } ?? "-")
    cells.append(r.heartbeatMicroseconds.map { f($0, 1) } ?? "-")
    cells.append("\(f(r.locationLatencyP50 * 1000, 0)) / \(f(r.locationLatencyP99 * 1000, 0)) / \(f(r.locationLatencyMax * 1000, 0))")
    if let p50 = r.eventWaitP50, let p99 = r.eventWaitP99, let max = r.eventWaitMax {
        cells.append("\(f(p50 * 1000, 2)) / \(f(p99 * 1000, 2)) / \(f(max * 1000, 0))")
    } else {
        cells.append("-")
    }
    if let p50 = r.wakeLateP50, let p99 = r.wakeLateP99 { cells.append("\(f(p50 * 1000, 2)) / \(f(p99 * 1000, 2))") } else { cells.append("-") }
    return "| " + cells.joined(separator: " | ") + " |"
}

let header = """
    | transport | workers x slots | M | R | killed | time s | ideal s | over ideal | decisions/s | decisions/busy s | scheduler busy | coordinator memory | B/task | B/pair | heartbeat us | location ms p50/p99/max | event wait ms p50/p99/max | wake late ms p50/p99 |
    |---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
    """

func encode(_ r: SimResult) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var object = (try? JSONSerialization.jsonObject(with: encoder.encode(r))) as? [String: Any] ?? [:]
    object["overIdeal"] = r.overIdeal
    object["bytesPerTask"] = r.bytesPerTask
    object["bytesPerPair"] = r.bytesPerPair
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

func makeConfig(_ transport: SimConfig.Transport, _ workers: Int, _ maps: Int, _ reduces: Int, kill: Double = 0, mapMs: Double = 200)
    -> SimConfig
{
    var c = SimConfig()
    c.transport = transport
    c.workers = workers
    c.maps = maps
    c.reduces = reduces
    c.killFraction = kill
    c.mapMilliseconds = mapMs
    if mapMs < 10 { c.reduceMilliseconds = mapMs }
    return c
}

func suite(quick: Bool) -> [SimConfig] {
    if quick {
        return [makeConfig(.memory, 50, 2_000, 50), makeConfig(.memory, 50, 2_000, 50, kill: 0.1), makeConfig(.loopback, 50, 1_000, 20)]
    }
    return [
        // Growth with workers and tasks together (the paper's ratios: 100 maps and 2.5 reduces per worker).
        makeConfig(.memory, 100, 10_000, 250),
        makeConfig(.memory, 500, 50_000, 1_250),
        makeConfig(.memory, 2_000, 200_000, 5_000),
        // Growth with tasks at 2,000 workers.
        makeConfig(.memory, 2_000, 20_000, 500),
        // 10% of the workers killed at once halfway through the map phase.
        makeConfig(.memory, 2_000, 200_000, 5_000, kill: 0.1),
        // Scheduling flat out: 1 ms tasks.
        makeConfig(.memory, 2_000, 200_000, 5_000, mapMs: 1),
        // Real connections.
        makeConfig(.loopback, 200, 4_000, 50),
        makeConfig(.loopback, 1_000, 20_000, 100),
        makeConfig(.loopback, 2_000, 40_000, 100),
    ]
}

/// The `mrsh-sim run` arguments of `config`.
func runArguments(_ c: SimConfig) -> [String] {
    var arguments = [
        "run", "--transport", c.transport.rawValue, "--workers", "\(c.workers)", "--slots", "\(c.slots)", "--maps", "\(c.maps)",
        "--reduces", "\(c.reduces)", "--map-ms", "\(c.mapMilliseconds)", "--reduce-ms", "\(c.reduceMilliseconds)",
        "--stragglers", "\(c.stragglerWorkers)", "--kill", "\(c.killFraction)", "--kill-at", "\(c.killAt)", "--seed", "\(c.seed)",
        "--heartbeat-ms", "\(c.heartbeatMilliseconds)",
    ]
    if !c.backupTasks { arguments.append("--no-backup-tasks") }
    return arguments
}

let arguments = CommandLine.arguments.dropFirst()
guard let command = arguments.first else { fail(usage) }
let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
switch command {
case "run":
    let config = parse(arguments.dropFirst())
    let result = try await Simulation.run(config, log: log)
    print(header)
    print(line(result))
    print(encode(result))
case "suite":
    var rest = arguments.dropFirst()
    var quick = false
    var out: String?
    while let flag = rest.popFirst() {
        switch flag {
        case "--quick": quick = true
        case "--out": out = rest.popFirst()
        default: fail(usage)
        }
    }
    var lines: [String] = []
    var rows: [String] = []
    for config in suite(quick: quick) {
        log("\(config.transport.rawValue): \(config.workers) workers x \(config.slots), M = \(config.maps), R = \(config.reduces), kill \(config.killFraction)")
        // Each run in a process of its own: resident memory is measured from a fresh start.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = runArguments(config)
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        guard child.terminationStatus == 0,
            let last = String(decoding: output, as: UTF8.self).split(separator: "\n").last,
            let result = try? JSONDecoder().decode(SimResult.self, from: Data(last.utf8))
        else { fail("the run \(runArguments(config)) failed") }
        log(line(result))
        rows.append(line(result))
        lines.append(encode(result))
        if let out { try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
    }
    print(header)
    for row in rows { print(row) }
default:
    fail(usage)
}

import Foundation
import MrshControl
import MrshDataPath
import MrshPlan

/// One worker as the workers page shows it (the coordinator fills it in; the attempt counts and what the
/// worker lost come from the history).
public struct WorkerRow: Sendable, Hashable {
    public var name: String
    /// "connected", "lost", "thread".
    public var state: String
    public var slots: Int
    public var completedTasks: Int
    /// Seconds since the worker's last heartbeat (nil: not a remote worker).
    public var heartbeatAge: Double?
    public var address: String
    /// Bytes of map output and parts its shuffle server sent to other processes (nil: not a worker process).
    public var servedBytes: Int64?

    public init(
        name: String, state: String, slots: Int, completedTasks: Int, heartbeatAge: Double?, address: String,
        servedBytes: Int64? = nil
    ) {
        self.servedBytes = servedBytes
        self.name = name
        self.state = state
        self.slots = slots
        self.completedTasks = completedTasks
        self.heartbeatAge = heartbeatAge
        self.address = address
    }
}

/// The status pages and the report, as HTML text: the jobs, one job (with its charts), the workers, an
/// attempt's log. No script, no external resource: the same text is the self-contained `--report` file.
public enum StatusPages {
    /// How a job page is shown: live on the status server (links to logs, refresh while running) or as a
    /// report file (logs inline, no links out).
    public enum Mode: Sendable {
        case live
        case report
    }

    /// Seconds between reloads of a page while a job runs.
    public static let refreshSeconds = 2

    // MARK: jobs

    public static func jobs(_ runs: [JobHistory.Run]) -> String {
        var body = "<h1>Jobs</h1>"
        let running = runs.filter(\.isRunning)
        let failed = runs.filter { if case .failed = $0.state { return true } else { return false } }
        body += "<h2>Running (\(running.count))</h2>" + runTable(running)
        body += "<h2>Recent (\(runs.count - running.count))</h2>" + runTable(runs.filter { !$0.isRunning })
        if !failed.isEmpty {
            body += "<h2>Failed (\(failed.count))</h2><table><tr><th>job</th><th>error</th></tr>"
            for run in failed {
                if case .failed(let message) = run.state {
                    body += "<tr><td><a href=\"/job/\(HTML.path(run.id))\">\(HTML.escape(run.id))</a></td>"
                        + "<td class=\"failed\">\(HTML.escape(message))</td></tr>"
                }
            }
            body += "</table>"
        }
        body += "<p class=\"note\">The last \(JobHistory.maxRuns) jobs are kept.</p>"
        return HTML.page(title: "mrsh: jobs", refresh: running.isEmpty ? 0 : refreshSeconds, nav: true, body: body)
    }

    private static func runTable(_ runs: [JobHistory.Run]) -> String {
        guard !runs.isEmpty else { return "<p class=\"note\">none</p>" }
        var html = "<table><tr><th>job</th><th>pipeline</th><th>started</th><th>state</th><th>stages</th><th>tasks</th><th>time</th><th>read</th><th>written</th></tr>"
        for run in runs {
            let tasks = run.jobs.reduce(0) { $0 + $1.mapTasks + $1.reduceTasks }
            let read = run.jobs.reduce(Int64(0)) { $0 + $1.map.bytesIn }
            let written = run.jobs.last.map { $0.reduceTasks > 0 ? $0.reduce.bytesOut : $0.map.bytesOut } ?? 0
            html += "<tr><td><a href=\"/job/\(HTML.path(run.id))\">\(HTML.escape(run.id))</a></td>"
                + "<td class=\"title\"><code>\(HTML.escape(shortTitle(run.title)))</code></td>"
                + "<td>\(timestamp(run.started))</td><td class=\"\(run.state.label)\">\(run.state.label)</td>"
                + "<td class=\"n\">\(run.jobs.count)</td><td class=\"n\">\(tasks)</td>"
                + "<td class=\"n\">\(run.elapsed.map(HTML.seconds) ?? "")</td>"
                + "<td class=\"n\">\(HTML.bytes(read))</td><td class=\"n\">\(HTML.bytes(written))</td></tr>"
        }
        return html + "</table>"
    }

    /// A run's title in one line of at most 80 characters (the job page shows it whole).
    static func shortTitle(_ title: String) -> String {
        let line = title.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
        return line.count > 80 ? line.prefix(77) + "..." : line
    }

    // MARK: one job

    /// One run: its stages, charts, tasks and attempts, failures and backups, lost workers and counters.
    /// `now`: seconds since the run started (for a running one).
    public static func job(_ run: JobHistory.Run, now: Double, mode: Mode) -> String {
        var body = "<h1>Job \(HTML.escape(run.id)) <span class=\"\(run.state.label)\">\(run.state.label)</span></h1>"
        if !run.title.isEmpty { body += "<pre id=\"title\">\(HTML.escape(run.title))</pre>" }
        body += "<p>Started \(timestamp(run.started))"
        body += run.elapsed.map { ", took \(HTML.seconds($0))" } ?? ", running for \(HTML.seconds(now))"
        body += ".</p>"
        if case .failed(let message) = run.state {
            body += "<p class=\"failed\" id=\"error\">Error: \(HTML.escape(message))</p>"
        }
        body += stages(run, now: now)
        body += "<h2>Data rates</h2>" + Charts.ratesSVG(run, now: now)
        body += "<p class=\"note\">Rates spread each finished attempt's bytes evenly over its duration (workers report "
            + "bytes when an attempt ends); running attempts count once they end. Shuffle: bytes reduce attempts fetched.</p>"
        body += "<h2>Task timeline</h2>" + Charts.timelineSVG(run, now: now)
        body += failures(run)
        body += lostWorkers(run)
        body += counters(run)
        for job in run.jobs { body += tasks(job, run: run, mode: mode) }
        if mode == .report {
            body += "<p class=\"note\">Written by mrsh \(timestamp(Date())).</p>"
        }
        return HTML.page(
            title: "mrsh: job \(run.id)", refresh: mode == .live && run.isRunning ? refreshSeconds : 0, nav: mode == .live,
            body: body)
    }

    private static func stages(_ run: JobHistory.Run, now: Double) -> String {
        var html = "<h2>Stages</h2><table id=\"stages\"><tr><th>stage</th><th>what</th><th>state</th><th>maps</th><th>reduces</th>"
            + "<th>time</th><th>records in</th><th>bytes in</th><th>records out</th><th>bytes out</th></tr>"
        for job in run.jobs {
            let mapsDone = Set(job.attempts.filter { $0.phase == .map && $0.outcome == .won }.map(\.task)).count
            let reducesDone = Set(job.attempts.filter { $0.phase == .reduce && $0.outcome == .won }.map(\.task)).count
            let out = job.reduceTasks > 0 ? job.reduce : job.map
            let time = (job.end ?? now) - job.start
            html += "<tr><td class=\"n\">\(job.id)</td><td>\(HTML.escape(job.description))</td>"
                + "<td class=\"\(job.state.label)\">\(job.state.label)</td>"
                + "<td class=\"n\">\(mapsDone)/\(job.mapTasks)</td><td class=\"n\">\(reducesDone)/\(job.reduceTasks)</td>"
                + "<td class=\"n\">\(HTML.seconds(time))</td>"
                + "<td class=\"n\">\(HTML.count(job.map.recordsIn))</td><td class=\"n\">\(HTML.bytes(job.map.bytesIn))</td>"
                + "<td class=\"n\">\(HTML.count(out.recordsOut))</td><td class=\"n\">\(HTML.bytes(out.bytesOut))</td></tr>"
        }
        return html + "</table><p class=\"note\">Records and bytes of a stage are its winning attempts', known when it ends.</p>"
    }

    private static func failures(_ run: JobHistory.Run) -> String {
        var rows = ""
        var count = 0
        for job in run.jobs {
            for a in job.attempts {
                let why: String
                switch a.outcome {
                case .failed(let cause): why = cause
                case .killed(let reason): why = reason
                default:
                    guard a.backup else { continue }
                    why = "backup attempt, \(a.outcome.label)"
                }
                count += 1
                rows += "<tr><td class=\"n\">\(job.id)</td><td>\(a.phase.rawValue) \(a.task)</td><td class=\"n\">\(a.attempt)</td>"
                    + "<td>\(HTML.escape(a.worker))</td><td class=\"\(a.outcome.label)\">\(a.outcome.label)\(a.backup ? " (backup)" : "")</td>"
                    + "<td>\(HTML.escape(why))</td></tr>"
            }
        }
        guard count > 0 else { return "<h2>Failures and backups</h2><p class=\"note\">none</p>" }
        return "<h2>Failures and backups (\(count))</h2><table id=\"failures\"><tr><th>stage</th><th>task</th><th>attempt</th>"
            + "<th>worker</th><th>outcome</th><th>why</th></tr>" + rows + "</table>"
    }

    private static func lostWorkers(_ run: JobHistory.Run) -> String {
        guard !run.lostWorkers.isEmpty else { return "" }
        var html = "<h2>Workers lost</h2><table><tr><th>worker</th><th>at</th><th>finished tasks run again</th><th>why</th></tr>"
        for lost in run.lostWorkers {
            html += "<tr><td>\(HTML.escape(lost.name))</td><td class=\"n\">\(HTML.seconds(lost.at))</td>"
                + "<td class=\"n\">\(lost.rerun)</td><td>\(HTML.escape(lost.reason))</td></tr>"
        }
        return html + "</table>"
    }

    private static func counters(_ run: JobHistory.Run) -> String {
        var html = "<h2>Counters</h2><p class=\"note\">Summed over the winning attempt of each task.</p><table id=\"counters\">"
            + "<tr><th>stage</th><th>side</th><th>counter</th><th>value</th></tr>"
        for job in run.jobs where job.state != .running {
            for (side, counters) in [("map", job.map), ("reduce", job.reduce)] where side == "map" || job.reduceTasks > 0 {
                for (name, value) in HTML.counterRows(counters) {
                    html += "<tr><td class=\"n\">\(job.id)</td><td>\(side)</td><td>\(HTML.escape(name))</td><td class=\"n\">\(HTML.escape(value))</td></tr>"
                }
            }
        }
        return html + "</table>"
    }

    private static func tasks(_ job: JobHistory.Job, run: JobHistory.Run, mode: Mode) -> String {
        var html = "<h2>Stage \(job.id): tasks</h2><table class=\"tasks\"><tr><th>task</th><th>attempt</th><th>worker</th><th>state</th>"
            + "<th>start</th><th>time</th><th>records in</th><th>bytes in</th><th>records out</th><th>bytes out</th><th>log</th></tr>"
        let ordered = job.attempts.sorted {
            ($0.phase == .map ? 0 : 1, $0.task, $0.attempt) < ($1.phase == .map ? 0 : 1, $1.task, $1.attempt)
        }
        for a in ordered {
            let c = a.counters
            let log: String
            switch mode {
            case .live:
                log = "<a href=\"/job/\(HTML.path(run.id))/log/\(job.id)/\(a.phase.rawValue)-\(a.task)-\(a.attempt)\">log</a>"
            case .report:
                log = "<details><summary>log</summary><pre>\(HTML.escape((a.workerLog + ["-- the coordinator:"] + a.log).joined(separator: "\n")))</pre></details>"
            }
            html += "<tr><td>\(a.phase.rawValue) \(a.task)</td><td class=\"n\">\(a.attempt)\(a.backup ? " B" : "")</td>"
                + "<td>\(HTML.escape(a.worker))</td><td class=\"\(a.outcome.label)\">\(a.outcome.label)</td>"
                + "<td class=\"n\">\(HTML.fixed(a.start, digits: 2))</td>"
                + "<td class=\"n\">\(a.end.map { HTML.seconds($0 - a.start) } ?? "")</td>"
                + "<td class=\"n\">\(c.map { HTML.count($0.recordsIn) } ?? "")</td><td class=\"n\">\(c.map { HTML.bytes($0.bytesIn) } ?? "")</td>"
                + "<td class=\"n\">\(c.map { HTML.count($0.recordsOut) } ?? "")</td><td class=\"n\">\(c.map { HTML.bytes($0.bytesOut) } ?? "")</td>"
                + "<td>\(log)</td></tr>"
        }
        html += "</table>"
        if job.droppedAttempts > 0 {
            html += "<p class=\"note\">\(job.droppedAttempts) more attempts were not kept (at most \(JobHistory.maxAttemptsPerJob) per stage).</p>"
        }
        return html
    }

    // MARK: log, workers

    /// The log lines of one attempt: what it logged where it ran, then the coordinator's view (start, worker,
    /// end and cause).
    public static func log(_ run: JobHistory.Run, job: Int, phase: JobHistory.Phase, task: Int, attempt: Int) -> String? {
        guard let stage = run.jobs.first(where: { $0.id == job }),
            let a = stage.attempts.first(where: { $0.phase == phase && $0.task == task && $0.attempt == attempt })
        else { return nil }
        let body = "<h1>\(phase.rawValue) \(task), attempt \(attempt)</h1>"
            + "<p>Job <a href=\"/job/\(HTML.path(run.id))\">\(HTML.escape(run.id))</a>, stage \(job), on \(HTML.escape(a.worker)): "
            + "<span class=\"\(a.outcome.label)\">\(a.outcome.label)</span></p>"
            + "<h2>On \(HTML.escape(a.worker))</h2>"
            + (a.workerLog.isEmpty
                ? "<p class=\"note\" id=\"task-log\">" + (a.outcome == .running ? "Its lines arrive when it ends." : "No lines (an attempt that was killed sends none).") + "</p>"
                : "<pre id=\"task-log\">\(HTML.escape(a.workerLog.joined(separator: "\n")))</pre>")
            + "<h2>The coordinator</h2>"
            + "<pre id=\"log\">\(HTML.escape(a.log.joined(separator: "\n")))</pre>"
            + "<p class=\"note\">What the attempt logged where it ran: its first \(TaskLog.headLines) and last "
            + "\(TaskLog.tailLines) lines, each cut at \(TaskLog.maxLineBytes) bytes, sent with its result. "
            + "The coordinator keeps the last \(JobHistory.maxLogLines) lines of its own view.</p>"
        return HTML.page(title: "mrsh: \(phase.rawValue) \(task) attempt \(attempt)", refresh: a.outcome == .running ? refreshSeconds : 0, nav: true, body: body)
    }

    /// The workers: state, slots, running and finished attempts, heartbeat age, bytes their shuffle server
    /// sent, and what they lost.
    public static func workers(_ workers: [WorkerRow], runs: [JobHistory.Run]) -> String {
        var running: [String: Int] = [:]
        var lost: [String: (times: Int, rerun: Int, reason: String)] = [:]
        for run in runs {
            for job in run.jobs {
                for a in job.attempts {
                    if a.outcome == .running { running[a.worker, default: 0] += 1 }
                }
            }
            for l in run.lostWorkers {
                let old = lost[l.name] ?? (0, 0, "")
                lost[l.name] = (old.times + 1, old.rerun + l.rerun, l.reason)
            }
        }
        var rows = workers
        for (name, _) in lost where !rows.contains(where: { $0.name == name }) {
            rows.append(WorkerRow(name: name, state: "lost", slots: 0, completedTasks: 0, heartbeatAge: nil, address: ""))
        }
        var body = "<h1>Workers (\(workers.count))</h1><table id=\"workers\"><tr><th>worker</th><th>state</th><th>slots</th>"
            + "<th>running</th><th>finished</th><th>heartbeat age</th><th>bytes served</th><th>lost</th><th>address</th></tr>"
        for w in rows {
            let l = lost[w.name]
            body += "<tr><td>\(HTML.escape(w.name))</td><td>\(HTML.escape(w.state))</td><td class=\"n\">\(w.slots)</td>"
                + "<td class=\"n\">\(running[w.name] ?? 0)</td><td class=\"n\">\(w.completedTasks)</td>"
                + "<td class=\"n\">\(w.heartbeatAge.map { HTML.seconds($0) } ?? "")</td>"
                + "<td class=\"n served\">\(w.servedBytes.map { HTML.bytes($0) } ?? "")</td>"
                + "<td>\(l.map { "lost \($0.times)x, \($0.rerun) finished tasks run again (\(HTML.escape($0.reason)))" } ?? "")</td>"
                + "<td>\(HTML.escape(w.address))</td></tr>"
        }
        body += "</table><p class=\"note\">Bytes served: blob data (map output, parts) the worker's shuffle server sent "
            + "to other processes since it started, as it reported with its last heartbeat; a task reading its own "
            + "worker's output reads it in place and is not counted. Threads of the in-process engine serve nothing.</p>"
        return HTML.page(title: "mrsh: workers", refresh: running.isEmpty ? 0 : refreshSeconds, nav: true, body: body)
    }

    /// "2026-12-02 04:25:13 UTC".
    static func timestamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}

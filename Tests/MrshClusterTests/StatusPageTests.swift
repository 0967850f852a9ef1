import Foundation
import Glibc
import MrshControl
import MrshDataPath
import MrshPlan
import MrshWeb
import MrshWire
import NIOPosix
import Synchronization
import Testing

/// The status page, the report and `/metrics` (issue 15): login, 401 without the code, a job's page on the
/// in-process engine, on the embedded engine (`mrsh --status-listen`) and on a cluster of worker processes
/// (`mrsh coordinator`), the report file, and both in headless Chromium.
@Suite(.serialized) struct StatusPageTests {
    /// Word counts of `text`, by the test (the oracle the job's output is checked against).
    static func wordCounts(_ text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") { for word in asciiWords(line) { counts[String(word), default: 0] += 1 } }
        return counts
    }

    /// In-process engine: without the code or cookie every path is 401; the login link sets an HttpOnly,
    /// SameSite=Strict cookie; the pages show the job's stages and every attempt; `/metrics` (bearer code)
    /// counts exactly what the summary says; the report is self-contained.
    @Test func inProcessEnginePagesMetricsAndReport() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = generatedText(lines: 20_000, seed: 15)
        try text.write(toFile: directory + "/in.txt", atomically: true, encoding: .utf8)
        var settings = JobSettings.defaults
        settings.splitSize = 64 << 10
        settings.reducers = 3
        let engine = try Engine(options: EngineOptions(workers: 2, settings: settings))
        defer { engine.shutdown() }
        let token = AuthToken("status-test-token-0123456789")
        let announced = AnnouncedLinks()
        let sources = StatusServer.Sources(history: engine.history, workers: {
            engine.executors.map { WorkerRow(name: $0.name, state: "thread", slots: 1, completedTasks: 0, heartbeatAge: nil, address: "") }
        })
        let server = try await StatusServer.start(
            host: "127.0.0.1", port: 0, token: token, sources: sources, group: MultiThreadedEventLoopGroup.singleton,
            onLinkUsed: { announced.add($0) })
        // The title the page shows is the statement's text, escaped.
        let title = "read \"in.txt\" | map words | reduce count # <b>&</b>"
        let plan = JobPlan(
            jobs: [
                JobSpec(id: 0, input: .files([directory + "/in.txt"]), mapOps: [.words], shuffle: .aggregate(.count), output: .standardOutput)
            ], title: title)
        let sink = CollectingSink()
        let summary = try await engine.run(plan, output: sink)
        // The job's own result against the oracle.
        var counted: [String: Int] = [:]
        for line in String(decoding: sink.bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            counted[String(fields[0])] = Int(fields[1])
        }
        #expect(counted == Self.wordCounts(text))

        // 401 everywhere without a session, also with a wrong code or cookie.
        for path in ["/", "/workers", "/metrics", "/job/x", "/login?code=wrong"] {
            #expect(try await httpGet(server.baseURL + path).status == 401, "\(path)")
        }
        #expect(try await httpGet(server.baseURL + "/", headers: ["Cookie": "mrsh_session=forged"]).status == 401)
        #expect(try await httpGet(server.baseURL + "/metrics", headers: ["Authorization": "Bearer nope"]).status == 401)
        // The code: a nonce and the MAC of it under the token (nothing of the token itself).
        let code = server.loginURL.components(separatedBy: "code=").last ?? ""
        #expect(code.count == 64 && code.dropFirst(32) == token.derived("status login " + code.prefix(32)))
        #expect(!code.contains("status-test-token"))
        // A code the server did not issue, even one with a right MAC, is refused.
        let forgedNonce = String(repeating: "0", count: 32)
        let forged = "\(server.baseURL)/login?code=\(forgedNonce)\(token.derived("status login " + forgedNonce))"
        #expect(try await httpGet(forged).status == 401)

        let login = try await httpGet(server.loginURL + "&next=/workers")
        #expect(login.status == 303)
        #expect(login.header("Location") == ["/workers"])
        let setCookie = login.header("Set-Cookie").first ?? ""
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
        let cookie = String(setCookie.split(separator: ";")[0])
        // One time: the same link again is refused, unless the browser that used it comes back with its
        // session (clicking its link again just goes on, and gets no second session).
        #expect(try await httpGet(server.loginURL).status == 401)
        let again = try await httpGet(server.loginURL + "&next=/workers", headers: ["Cookie": cookie])
        #expect(again.status == 303 && again.header("Location") == ["/workers"] && again.header("Set-Cookie").isEmpty)
        // Using it announced the next link, which works once too.
        #expect(announced.links.count == 1 && announced.links.first != server.loginURL)
        let next = announced.links.first ?? ""
        #expect(try await httpGet(next + "&next=//evil.example/").header("Location") == ["/"], "an open redirect is refused")
        #expect(try await httpGet(next).status == 401)
        #expect(announced.links.count == 2)
        // A new link for the shell's `:login`; a restarted server (same token, new process state) accepts
        // none of the old server's links.
        let unused = server.newLoginURL()
        let restarted = try await StatusServer.start(
            host: "127.0.0.1", port: 0, token: token, sources: sources, group: MultiThreadedEventLoopGroup.singleton)
        let moved = unused.replacingOccurrences(of: server.baseURL, with: restarted.baseURL)
        #expect(try await httpGet(moved).status == 401)
        #expect(try await httpGet(restarted.loginURL).status == 303)
        await restarted.stop()
        let client = try await StatusClient(loginURL: unused)

        let jobs = try await client.get("/")
        #expect(jobs.status == 200)
        guard let run = engine.history.last else { throw HTTPTestError.bad("no run recorded") }
        #expect(jobs.body.contains("/job/\(run.id)") && jobs.body.contains("succeeded"))
        let escapedTitle = "read &quot;in.txt&quot; | map words | reduce count # &lt;b&gt;&amp;&lt;/b&gt;"
        #expect(jobs.body.contains("<code>\(escapedTitle)</code>"), "the jobs page names the pipeline")
        #expect(!jobs.body.contains("<b>&</b>"))
        #expect(!jobs.body.contains("http-equiv=\"refresh\""), "a finished job's page does not reload")

        let page = try await client.get("/job/\(run.id)")
        #expect(page.status == 200)
        #expect(page.body.contains("<pre id=\"title\">\(escapedTitle)</pre>"), "the job page's title is the pipeline")
        let report = summary.jobs[0]
        #expect(page.body.contains("\(report.mapTasks)/\(report.mapTasks)") && page.body.contains("3/3"))
        #expect(page.body.contains("<svg class=\"rates\"") && page.body.contains("<svg class=\"timeline\""))
        #expect(!page.body.contains("<script"))
        // One bar per attempt, and one row per attempt in the tasks table.
        let attempts = run.jobs[0].attempts
        #expect(attempts.count >= report.mapTasks + 3)
        #expect(page.body.components(separatedBy: "<rect class=\"attempt ").count - 1 == attempts.count)
        #expect(attempts.filter { $0.outcome == .won }.count == report.mapTasks + 3)
        // The stage's counters are the summary's (winning attempts).
        #expect(run.jobs[0].map == report.map && run.jobs[0].reduce == report.reduce)

        // A task's log is one click away.
        let first = attempts[0]
        let log = try await client.get("/job/\(run.id)/log/0/\(first.phase.rawValue)-\(first.task)-\(first.attempt)")
        #expect(log.status == 200 && log.body.contains("started on \(first.worker)") && log.body.contains("succeeded"))
        // ... with what the attempt logged where it ran (here a thread of this process).
        let taskLog = Self.element("task-log", in: log.body)
        #expect(taskLog.contains("\(first.phase.rawValue) task \(first.task) of job 0, attempt \(first.attempt)"), "\(taskLog)")
        #expect(taskLog.contains("read \(first.counters?.recordsIn ?? -1) records"), "\(taskLog)")
        #expect(try await client.get("/job/\(run.id)/log/0/map-99999-0").status == 404)

        let workers = try await client.get("/workers")
        #expect(workers.body.contains("local-0") && workers.body.contains("local-1"))

        // A scraper's key: derived from the token, not a login code.
        #expect(try await httpGet(server.baseURL + "/metrics", headers: ["Authorization": "Bearer \(code)"]).status == 401)
        let metrics = try await httpGet(
            server.baseURL + "/metrics", headers: ["Authorization": "Bearer \(StatusServer.metricsKey(for: token))"])
        #expect(metrics.status == 200)
        let values = Self.metricValues(metrics.body)
        #expect(values["mrsh_bytes_read_total"] == Double(report.map.bytesIn))
        #expect(values["mrsh_bytes_shuffled_total"] == Double(report.map.bytesOut))
        #expect(values["mrsh_bytes_written_total"] == Double(report.reduce.bytesOut))
        #expect(values["mrsh_jobs_total{state=\"succeeded\"}"] == 1)
        #expect(values["mrsh_task_attempts_total{phase=\"map\",outcome=\"succeeded\"}"] == Double(report.mapTasks))
        #expect(values["mrsh_task_duration_seconds_count{phase=\"reduce\"}"] == Double(attempts.filter { $0.phase == .reduce }.count))
        #expect(values["mrsh_workers"] == 2)
        #expect(metrics.body.contains("# TYPE mrsh_task_duration_seconds histogram"))

        // The report: the same page, self-contained (no script, no link to anything outside, logs inline).
        let file = directory + "/report.html"
        try Report.write(run, to: file)
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("Job \(run.id)"))
        #expect(html.contains("<svg class=\"rates\"") && html.contains("<details><summary>log</summary>"))
        #expect(!html.contains("<script") && !html.contains("href=\"/") && !html.contains("src="))
        #expect(!html.contains("http-equiv=\"refresh\""))
        #expect(throws: StatusServerError.self) { try Report.write(run, to: directory + "/missing/dir/r.html") }
        await server.stop()
    }

    /// The embedded engine with `--status-listen`: the login link is printed, the page of the running job
    /// reloads itself and lists the worker processes; `--report` writes the finished job's page, which
    /// headless Chromium renders (DOM and a screenshot that is not blank), as it does the live page.
    @Test func embeddedEngineStatusPageWhileRunningAndReport() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Asked before the job starts: the answer takes a browser start.
        let browserUnusable = await HeadlessChromium.unusableReason()
        let text = generatedText(lines: 40_000, seed: 16)
        try text.write(toFile: directory + "/in.txt", atomically: true, encoding: .utf8)
        // Map tasks slowed down (about 10 s in all) so the page is seen while the job runs.
        let child = try Child(
            mrsh: [
                "--workers", "2", "--split-size", "64K", "--status-listen", "127.0.0.1:0", "--report", "report.html",
                "-e", "read \"in.txt\" | map words | reduce count",
            ], directory: directory, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.5"])
        defer { child.stop() }
        let pattern = "status page at (http://\\S+)"
        guard await eventually(30, { firstCapture(pattern, in: child.stderr) != nil }),
            let loginURL = firstCapture(pattern, in: child.stderr)
        else {
            Issue.record("no status page link: \(child.stderr)")
            return
        }
        let client = try await StatusClient(loginURL: loginURL)
        #expect(try await httpGet(loginURL).status == 401, "the printed link works once")
        // ... and the run printed the next one.
        let nextPattern = "the next one: (http://\\S+)"
        guard await eventually(10, { firstCapture(nextPattern, in: child.stderr) != nil }),
            let nextURL = firstCapture(nextPattern, in: child.stderr)
        else {
            Issue.record("no next login link: \(child.stderr)")
            return
        }
        var runID: String?
        _ = await eventuallyAsync(20) {
            guard let body = try? await client.get("/").body, let range = body.range(of: "/job/[0-9a-f]+-[0-9]+", options: .regularExpression)
            else { return false }
            runID = String(body[range].dropFirst(5))
            return true
        }
        guard let runID else {
            Issue.record("no job on the status page")
            return
        }
        let running = try await client.get("/job/\(runID)")
        #expect(running.status == 200)
        #expect(running.body.contains("http-equiv=\"refresh\""), "a running job's page reloads itself")
        #expect(running.body.contains("class=\"running\""))
        let workers = try await client.get("/workers").body
        #expect(workers.contains("<td>w0</td>") && workers.contains("<td>w1</td>"))

        // The live page in a real browser: log in through the link, then the job's page.
        if browserUnusable == nil {
            let dom = try await HeadlessChromium.dumpDOM(nextURL + "&next=/job/\(runID)")
            #expect(dom.contains("Job \(runID)") && dom.contains("<svg class=\"rates\""), "\(dom.prefix(500))")
            #expect(dom.contains("read \"in.txt\" | map words | reduce count"), "the title is the pipeline")
        } else {
            print("skipped the browser check of the live page: \(browserUnusable ?? "")")
        }

        #expect(await child.wait(timeout: 120) == 0, "\(child.stderr)")
        let output = Dictionary(
            uniqueKeysWithValues: child.stdout.split(separator: "\n").map { line in
                let f = line.split(separator: "\t")
                return (String(f[0]), Int(f[1]) ?? -1)
            })
        #expect(output == Self.wordCounts(text))
        let report = directory + "/report.html"
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("Job \(runID)") && html.contains("succeeded") && html.contains("<td>w0</td>"))
        #expect(!html.contains("http-equiv=\"refresh\""))

        if let browserUnusable {
            print("skipped the browser check of the report: \(browserUnusable)")
            return
        }
        let dom = try await HeadlessChromium.dumpDOM("file://" + report)
        #expect(dom.contains("<table id=\"stages\">") && dom.contains("Task attempts ("))
        let png = directory + "/report.png"
        try await HeadlessChromium.screenshot("file://" + report, to: png)
        let colours = try await pngColourCount(png)
        #expect(colours > 20, "the screenshot has \(colours) colours")
    }

    /// A cluster of worker processes (`mrsh coordinator` serves its page by default): the page of a running
    /// job, then of the finished one with attempts on both workers, the workers page with heartbeat ages,
    /// `/metrics` with the bearer code; 401 without it.
    @Test func clusterOfWorkerProcessesStatusPage() async throws {
        let cluster = try await FaultCluster.start(workers: 2, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.2"])
        defer { cluster.stop() }
        let pattern = "status page at (http://\\S+)"
        guard let loginURL = firstCapture(pattern, in: cluster.log) else {
            Issue.record("the coordinator printed no status link: \(cluster.log.prefix(2000))")
            return
        }
        let base = String(loginURL[..<(loginURL.range(of: "/login")?.lowerBound ?? loginURL.endIndex)])
        #expect(try await httpGet(base + "/").status == 401)
        #expect(try await httpGet(base + "/metrics").status == 401)
        let code = loginURL.components(separatedBy: "code=").last ?? ""
        #expect(code.count == 64 && code.dropFirst(32) == AuthToken("fault-cluster-token").derived("status login " + code.prefix(32)))
        // The key a scraper is given, as a user gets it: `mrsh token --metrics-key TOKENFILE`.
        let keyCommand = try Child(mrsh: ["token", "--metrics-key", cluster.tokenFile])
        #expect(await keyCommand.wait(timeout: 20) == 0, "\(keyCommand.stderr)")
        let metricsKey = keyCommand.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(metricsKey == StatusServer.metricsKey(for: AuthToken("fault-cluster-token")))
        #expect(try await httpGet(base + "/metrics", headers: ["Authorization": "Bearer \(metricsKey)x"]).status == 401)

        let text = generatedText(lines: 30_000, seed: 17)
        try text.write(toFile: cluster.directory + "/in.txt", atomically: true, encoding: .utf8)
        let job = try cluster.client(
            ["--split-size", "64K", "--report", "cluster.html", "-e", "read \"in.txt\" | map words | reduce count"])
        defer { job.stop() }
        let client = try await StatusClient(loginURL: loginURL)
        var page = ""
        let sawRunning = await eventuallyAsync(30) {
            page = (try? await client.get("/"))?.body ?? ""
            return page.contains("<h2>Running (1)</h2>")
        }
        #expect(sawRunning, "\(page.prefix(1000))")
        #expect(await job.wait(timeout: 120) == 0, "\(job.stderr)")
        var counted: [String: Int] = [:]
        for line in job.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t")
            counted[String(f[0])] = Int(f[1])
        }
        #expect(counted == Self.wordCounts(text))

        let jobs = try await client.get("/").body
        guard let range = jobs.range(of: "/job/[0-9a-f]+-[0-9]+", options: .regularExpression) else {
            Issue.record("no job link: \(jobs.prefix(1000))")
            return
        }
        let jobPage = try await client.get(String(jobs[range])).body
        // `--report` through the cluster: the coordinator's record of the run, written by the client.
        let report = try String(contentsOfFile: cluster.directory + "/cluster.html", encoding: .utf8)
        #expect(report.contains("Job \(jobs[range].dropFirst(5))") && report.contains("<td>w0</td>") && report.contains("<td>w1</td>"))
        #expect(report.contains("<pre id=\"title\">read &quot;in.txt&quot; | map words | reduce count</pre>"))
        #expect(report.contains("reduce task 0 of job 0") && !report.contains("href=\"/"), "the workers' lines, inline")
        #expect(jobPage.contains("<td>w0</td>") && jobPage.contains("<td>w1</td>"))
        #expect(jobPage.contains("<span class=\"succeeded\">succeeded</span>"))
        #expect(jobPage.contains("<pre id=\"title\">read &quot;in.txt&quot; | map words | reduce count</pre>"))
        // A reduce attempt's own log lines, from its worker: its fetches and its counts.
        if let link = jobPage.range(of: "/job/[0-9a-f]+-[0-9]+/log/0/reduce-0-[0-9]+", options: .regularExpression) {
            let taskLog = Self.element("task-log", in: try await client.get(String(jobPage[link])).body)
            #expect(taskLog.contains("reduce task 0 of job 0") && taskLog.contains("map outputs; merging"), "\(taskLog)")
        } else {
            Issue.record("no reduce attempt on the job page")
        }
        let workers = try await client.get("/workers").body
        #expect(workers.contains("<td>w0</td>") && workers.contains("<td>w1</td>") && workers.contains("connected"))
        // Bytes served: what each worker's shuffle server sent (reports come with heartbeats, every 0.2 s).
        var values: [String: Double] = [:]
        let served = await eventuallyAsync(10) {
            let text = (try? await httpGet(base + "/metrics", headers: ["Authorization": "Bearer \(metricsKey)"]))?.body ?? ""
            values = Self.metricValues(text)
            return (values["mrsh_worker_served_bytes{worker=\"w0\"}"] ?? 0) > 0
                && (values["mrsh_worker_served_bytes{worker=\"w1\"}"] ?? 0) > 0
        }
        #expect(served, "\(values.filter { $0.key.hasPrefix("mrsh_worker") })")
        // Each worker's reducers fetched their partitions of the other worker's map outputs, and the
        // coordinator fetched every part: together at least the job's output, at most everything moved.
        let servedTotal = (values["mrsh_worker_served_bytes{worker=\"w0\"}"] ?? 0) + (values["mrsh_worker_served_bytes{worker=\"w1\"}"] ?? 0)
        let shuffled = values["mrsh_bytes_shuffled_total"] ?? 0
        let written = values["mrsh_bytes_written_total"] ?? 0
        #expect(servedTotal >= written && servedTotal <= shuffled + written, "served \(servedTotal), shuffled \(shuffled), written \(written)")
        let workersPage = try await client.get("/workers").body
        #expect(!workersPage.contains("<td class=\"n served\"></td>") && !workersPage.contains("<td class=\"n served\">0 B</td>"), "\(workersPage)")
        let metrics = try await httpGet(base + "/metrics", headers: ["Authorization": "Bearer \(metricsKey)"])
        #expect(metrics.status == 200)
        values = Self.metricValues(metrics.body)
        #expect(values["mrsh_workers"] == 2)
        #expect(values["mrsh_jobs_total{state=\"succeeded\"}"] == 1)
        #expect((values["mrsh_worker_heartbeat_age_seconds{worker=\"w0\"}"] ?? 99) < 2)
        #expect((values["mrsh_bytes_read_total"] ?? 0) >= Double(text.utf8.count))

        // `explain analyze` through the cluster: exact counts (the test's own), a counter, the histogram.
        let words = text.split(separator: "\n").reduce(0) { $0 + asciiWords($1).count }
        let analyze = try cluster.client(
            ["--split-size", "64K", "--reducers", "2", "-e", #"explain analyze read "in.txt" | map words | counter "w" | reduce count"#])
        #expect(await analyze.wait(timeout: 120) == 0, "\(analyze.stderr)")
        let lines = analyze.stdout.split(separator: "\n").map(String.init)
        func row(_ label: String) -> String? {
            lines.first { $0.hasPrefix("    " + label + "  ") }?.dropFirst(4 + label.count).trimmingCharacters(in: .whitespaces)
        }
        let lineCount = Int64(text.split(separator: "\n").count)
        // Records' bytes are without their line ends.
        let recordBytes = Int64(text.utf8.count) - lineCount
        #expect(row("read") == "\(JobSummary.formatCount(lineCount)) records, \(JobSummary.formatBytes(recordBytes))", "\(analyze.stdout)")
        #expect(row("map words")?.hasPrefix("\(JobSummary.formatCount(lineCount)) -> \(JobSummary.formatCount(Int64(words))) records") == true, "\(analyze.stdout)")
        // The stage's row, then the counter's total.
        #expect(lines.last { $0.hasPrefix(#"    counter "w"  "#) }?.hasSuffix("  " + JobSummary.formatCount(Int64(words))) == true, "\(analyze.stdout)")
        #expect(analyze.stdout.contains("  reducers records per partition: min "), "\(analyze.stdout)")
    }

    /// A task's own log lines come from the worker process that ran it, with its result and with its failure:
    /// a `stream` command's standard error, in the report of a run on the embedded engine's worker processes.
    @Test func workerLogLinesOfSucceededAndFailedAttempts() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "a\nb\nc\n".write(toFile: directory + "/in.txt", atomically: true, encoding: .utf8)
        let ok = try Child(
            mrsh: [
                "--workers", "2", "--report", "ok.html",
                "-e", #"read "in.txt" | stream "echo note-from-the-command >&2; cat" | count"#,
            ], directory: directory)
        #expect(await ok.wait(timeout: 120) == 0, "\(ok.stderr)")
        #expect(ok.stdout == "3\n")
        let okReport = try String(contentsOfFile: directory + "/ok.html", encoding: .utf8)
        #expect(okReport.contains("stream stderr: note-from-the-command"), "\(okReport.suffix(3000))")
        #expect(okReport.contains("map task 0 of job 0, attempt 0: 1 split, 6 B"))
        #expect(okReport.contains("read 3 records (6 B)"))

        let failing = try Child(
            mrsh: [
                "--workers", "1", "--max-attempts", "1", "--report", "failed.html",
                "-e", #"read "in.txt" | stream "echo giving-up-now >&2; exit 3" | count"#,
            ], directory: directory)
        #expect(await failing.wait(timeout: 120) == 1, "\(failing.stderr)")
        let failedReport = try String(contentsOfFile: directory + "/failed.html", encoding: .utf8)
        #expect(failedReport.contains("stream stderr: giving-up-now"), "\(failedReport.suffix(3000))")
        #expect(failedReport.contains("failed: "), "the worker's last line says why")
    }

    /// `--status-listen` mistakes are clear messages and a non-zero exit: a malformed address, a port in use.
    @Test func badStatusListenIsAClearError() async throws {
        let bad = try Child(mrsh: ["--workers", "1", "--status-listen", "nonsense", "-e", "read \"x\" | count"])
        #expect(await bad.wait() == 2)
        #expect(bad.stderr.contains("--status-listen expects HOST:PORT"), "\(bad.stderr)")

        // Hold a port, then ask for it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        let busy = try Child(mrsh: ["--workers", "1", "--status-listen", "127.0.0.1:\(port)", "-e", "read \"x\" | count"])
        #expect(await busy.wait() == 1)
        #expect(busy.stderr.contains("cannot serve the status page on 127.0.0.1:\(port): the address is in use"), "\(busy.stderr)")
    }

    /// The text inside the element with id `id` (`<pre id="task-log">...</pre>`), empty when there is none.
    static func element(_ id: String, in html: String) -> String {
        guard let start = html.range(of: "id=\"\(id)\">") else { return "" }
        let rest = html[start.upperBound...]
        return String(rest[..<(rest.range(of: "</")?.lowerBound ?? rest.endIndex)])
    }

    /// "name{labels} value" lines of a Prometheus text page.
    static func metricValues(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }
}

/// The login links a status server announced (`onLinkUsed`).
final class AnnouncedLinks: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ link: String) { list.withLock { $0.append(link) } }
    var links: [String] { list.withLock { $0 } }
}

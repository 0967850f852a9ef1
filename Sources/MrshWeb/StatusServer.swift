import Foundation
import MrshControl
import MrshPlan
import MrshWire
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The coordinator's HTTP status server (NIOHTTP1): the jobs, one job with its charts, an attempt's log, the
/// workers, and `/metrics`.
///
/// Nobody without the cluster's token gets in: every request answers 401 unless it carries a session cookie
/// or the metrics key as `Authorization: Bearer KEY`. Sessions come from login links
/// (`/login?code=CODE`), each good for one use: CODE is a random nonce followed by the first 128 bits of
/// HMAC-SHA256(token, "mrsh status login " + nonce), and the server accepts only the nonces it issued and has
/// not seen used (kept in memory: a restarted server accepts none of its predecessor's). Using one sets a
/// session cookie (random, HttpOnly, SameSite=Strict), redirects to the jobs page (or to `next`, a path of
/// this server) and calls `onLinkUsed` with the next link, which the CLI prints where the first one was. The
/// metrics key (`AuthToken.derived("status metrics")`) is for scrapers and never printed.
/// Bound to loopback unless told otherwise.
public final class StatusServer: Sendable {
    public let host: String
    public let port: Int
    /// The first login link, made at start: `http://HOST:PORT/login?code=CODE` (one use).
    public let loginURL: String
    private let handler: RequestHandler
    private let channel: any Channel
    private let serving: Task<Void, Never>

    public var baseURL: String { Self.baseURL(host: host, port: port) }

    static func baseURL(host: String, port: Int) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// A new one-time login link (`:login` in the shell prints one).
    public func newLoginURL() -> String { "\(baseURL)/login?code=\(handler.logins.issue())" }

    /// What the pages show.
    public struct Sources: Sendable {
        public var history: JobHistory
        public var workers: @Sendable () async -> [WorkerRow]
        public init(history: JobHistory, workers: @escaping @Sendable () async -> [WorkerRow]) {
            self.history = history
            self.workers = workers
        }
    }

    /// The bearer key of `/metrics` for a cluster token (`mrsh token --metrics-key FILE` prints it).
    public static func metricsKey(for token: AuthToken) -> String { token.derived("status metrics") }

    /// Binds `host:port` (port 0: the kernel chooses) and serves until `stop()`. Throws `StatusServerError`
    /// with a message for the user when the address cannot be bound. `onLinkUsed` gets the next login link
    /// each time one is used (called on the server's task: keep it short).
    public static func start(
        host: String, port: Int, token: AuthToken, sources: Sources, group: any EventLoopGroup,
        onLinkUsed: (@Sendable (String) -> Void)? = nil
    ) async throws -> StatusServer {
        let logins = LoginCodes(token: token)
        let handler = RequestHandler(
            logins: logins, metricsKey: metricsKey(for: token), sources: sources,
            metrics: StatusMetrics(history: sources.history))
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: child)
                    }
                }
        } catch {
            throw StatusServerError(message: "cannot serve the status page on \(host):\(port): \(describe(error))")
        }
        let bound = server.channel.localAddress?.port ?? port
        let base = baseURL(host: host, port: bound)
        if let onLinkUsed {
            handler.announcer.withLock { $0 = { onLinkUsed("\(base)/login?code=\(logins.issue())") } }
        }
        let serving = Task { () -> Void in
            _ = try? await server.executeThenClose { connections in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in connections {
                            group.addTask { await handler.serve(connection) }
                        }
                    } catch {}
                    group.cancelAll()
                }
            }
        }
        return StatusServer(
            host: host, port: bound, loginURL: "\(base)/login?code=\(logins.issue())", handler: handler,
            channel: server.channel, serving: serving)
    }

    private init(
        host: String, port: Int, loginURL: String, handler: RequestHandler, channel: any Channel, serving: Task<Void, Never>
    ) {
        self.host = host
        self.port = port
        self.loginURL = loginURL
        self.handler = handler
        self.channel = channel
        self.serving = serving
    }

    /// Stops listening and ends open connections.
    public func stop() async {
        try? await channel.close().get()
        serving.cancel()
        await serving.value
    }

    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE: return "the address is in use"
            case EADDRNOTAVAIL: return "the address is not one of this machine's"
            case EACCES: return "permission denied"
            default: return "\(io)"
            }
        }
        return "\(error)"
    }
}

public struct StatusServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// The one-time login codes a status server issued and that were not used yet (at most `maxPending`, the
/// oldest forgotten first). A code is `NONCE MAC` in hex: 16 random bytes, then the first 16 bytes of
/// HMAC-SHA256(token, "mrsh status login " + NONCE).
final class LoginCodes: Sendable {
    private let token: AuthToken
    private let pending = Mutex<[String]>([])
    static let maxPending = 64

    init(token: AuthToken) { self.token = token }

    /// A fresh code, good for one use.
    func issue() -> String {
        let nonce = randomHex(bytes: 16)
        pending.withLock { list in
            list.append(nonce)
            if list.count > Self.maxPending { list.removeFirst(list.count - Self.maxPending) }
        }
        return nonce + token.derived("status login " + nonce)
    }

    /// Uses `code` up: true when it is one this server issued and nobody used before.
    func consume(_ code: String) -> Bool {
        guard code.utf8.count == 64 else { return false }
        let nonce = String(code.prefix(32))
        guard RequestHandler.equal(String(code.dropFirst(32)), token.derived("status login " + nonce)) else { return false }
        return pending.withLock { list in
            guard let index = list.firstIndex(where: { RequestHandler.equal($0, nonce) }) else { return false }
            list.remove(at: index)
            return true
        }
    }
}

/// `bytes` random bytes in hex.
func randomHex(bytes: Int) -> String {
    var text = ""
    for _ in 0..<bytes {
        let byte = UInt8.random(in: 0...255)
        text += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
    }
    return text
}

/// Answers requests; holds the sessions (random cookies handed out at login, the last 256 kept).
final class RequestHandler: Sendable {
    let logins: LoginCodes
    let metricsKey: String
    let sources: StatusServer.Sources
    let metrics: StatusMetrics
    /// Issues and announces the next login link after one was used (nil: nobody to tell, none issued).
    let announcer = Mutex<(@Sendable () -> Void)?>(nil)
    private let sessions = Mutex<[String]>([])
    static let cookieName = "mrsh_session"
    static let maxSessions = 256

    init(logins: LoginCodes, metricsKey: String, sources: StatusServer.Sources, metrics: StatusMetrics) {
        self.logins = logins
        self.metricsKey = metricsKey
        self.sources = sources
        self.metrics = metrics
    }

    struct Response {
        var status: HTTPResponseStatus
        var type = "text/html; charset=utf-8"
        var body: String
        var headers: [(String, String)] = []
    }

    /// One request per connection (answered with `Connection: close`): the pages are small and few.
    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let h): head = h
                case .body: break
                case .end:
                    guard let head else { return }
                    let response = await respond(head)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: response.type)
                    headers.add(name: "Content-Length", value: String(response.body.utf8.count))
                    headers.add(name: "Connection", value: "close")
                    headers.add(name: "Cache-Control", value: "no-store")
                    headers.add(name: "X-Content-Type-Options", value: "nosniff")
                    headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:")
                    for (name, value) in response.headers { headers.add(name: name, value: value) }
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers)))
                    if head.method != .HEAD {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
                    }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }

    func respond(_ head: HTTPRequestHead) async -> Response {
        guard head.method == .GET || head.method == .HEAD else {
            return Response(status: .methodNotAllowed, type: "text/plain", body: "only GET\n")
        }
        let (path, query) = Self.split(head.uri)
        if path == "/login" { return login(query, headers: head.headers) }
        guard authorized(head.headers) else {
            return Response(
                status: .unauthorized, type: "text/html; charset=utf-8",
                body: HTML.page(
                    title: "mrsh: log in", nav: false,
                    body: "<h1>401: log in first</h1><p>Open the newest login link mrsh printed "
                        + "(<code>/login?code=...</code>; each works once), or send "
                        + "<code>Authorization: Bearer KEY</code> with the metrics key.</p>"),
                headers: [("WWW-Authenticate", "Bearer realm=\"mrsh\"")])
        }
        let history = sources.history
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { $0.removingPercentEncoding ?? String($0) }
        switch parts.first {
        case nil:
            return Response(status: .ok, body: StatusPages.jobs(history.runs()))
        case "workers":
            return Response(status: .ok, body: StatusPages.workers(await sources.workers(), runs: history.runs()))
        case "metrics" where parts.count == 1:
            let text = metrics.scrape(runs: history.runs(), workers: await sources.workers())
            return Response(status: .ok, type: "text/plain; version=0.0.4; charset=utf-8", body: text)
        case "job" where parts.count >= 2:
            guard let run = history.run(parts[1]) else { return notFound("no job \(parts[1]) (the last \(JobHistory.maxRuns) are kept)") }
            let now = history.now(of: run.id) ?? 0
            if parts.count == 2 { return Response(status: .ok, body: StatusPages.job(run, now: now, mode: .live)) }
            // /job/RUN/log/STAGE/PHASE-TASK-ATTEMPT
            if parts.count == 5, parts[2] == "log", let stage = Int(parts[3]) {
                let fields = parts[4].split(separator: "-")
                if fields.count == 3, let phase = JobHistory.Phase(rawValue: String(fields[0])), let task = Int(fields[1]),
                    let attempt = Int(fields[2]),
                    let page = StatusPages.log(run, job: stage, phase: phase, task: task, attempt: attempt)
                {
                    return Response(status: .ok, body: page)
                }
            }
            return notFound("no such attempt")
        default:
            return notFound("no page \(path)")
        }
    }

    private func notFound(_ message: String) -> Response {
        Response(
            status: .notFound,
            body: HTML.page(title: "mrsh: not found", nav: true, body: "<h1>404</h1><p>\(HTML.escape(message))</p>"))
    }

    /// `/login?code=CODE[&next=/path]`: an unused code gets a session cookie and a redirect (and the next
    /// link is announced); a used or wrong one 401, unless the browser already has a session (it clicked its
    /// link again), which is just redirected.
    private func login(_ query: [String: String], headers: HTTPHeaders) -> Response {
        var next = query["next"] ?? "/"
        // Only a path of this server (not //host, which a browser reads as another host).
        if !next.hasPrefix("/") || next.hasPrefix("//") || next.contains("\\") { next = "/" }
        guard let given = query["code"], logins.consume(given) else {
            if hasSession(headers) { return Response(status: .seeOther, body: "", headers: [("Location", next)]) }
            return Response(
                status: .unauthorized,
                body: HTML.page(
                    title: "mrsh: log in", nav: false,
                    body: "<h1>401: this login link is used up or wrong</h1><p>Each login link works once, and only "
                        + "on the server that printed it. Open the newest link mrsh printed (it prints the next one "
                        + "each time one is used; in the shell, <code>:login</code> prints one).</p>"))
        }
        let session = randomHex(bytes: 16)
        sessions.withLock { list in
            list.append(session)
            if list.count > Self.maxSessions { list.removeFirst(list.count - Self.maxSessions) }
        }
        announcer.withLock { $0 }?()
        return Response(
            status: .seeOther, body: "",
            headers: [
                ("Location", next),
                ("Set-Cookie", "\(Self.cookieName)=\(session); Path=/; HttpOnly; SameSite=Strict"),
            ])
    }

    private func authorized(_ headers: HTTPHeaders) -> Bool {
        for value in headers["Authorization"] {
            let parts = value.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer",
                Self.equal(String(parts[1]).trimmingCharacters(in: .whitespaces), metricsKey)
            {
                return true
            }
        }
        return hasSession(headers)
    }

    private func hasSession(_ headers: HTTPHeaders) -> Bool {
        for header in headers["Cookie"] {
            for cookie in header.split(separator: ";") {
                let pair = cookie.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == Self.cookieName {
                    let value = String(pair[1])
                    if sessions.withLock({ list in list.contains { Self.equal($0, value) } }) { return true }
                }
            }
        }
        return false
    }

    /// Compares in time independent of where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// "/job/x?code=1&next=%2F" -> ("/job/x", ["code": "1", "next": "/"]).
    static func split(_ uri: String) -> (String, [String: String]) {
        let pieces = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(pieces.first ?? "/")
        var query: [String: String] = [:]
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let value = kv.count == 2 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
                query[key] = value
            }
        }
        return (path, query)
    }
}

/// `--report FILE.html` and `:report`: the job page of a finished run as one self-contained file.
public enum Report {
    /// Writes the page of `run` to `path`; throws `StatusServerError` naming the file when it cannot.
    public static func write(_ run: JobHistory.Run, to path: String) throws {
        let html = StatusPages.job(run, now: run.elapsed ?? 0, mode: .report)
        do {
            try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw StatusServerError(message: "cannot write the report '\(path)': \((error as NSError).localizedDescription)")
        }
    }
}

import Foundation
import Glibc
import Testing

/// A blocking HTTP/1.1 GET over loopback for the status page tests (the server answers one request per
/// connection and closes it, so the response is everything up to EOF).
struct HTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }
}

/// Runs on a thread of its own: a blocking read on the cooperative pool (two threads on a 2-core machine) would
/// stall every other test of the process, and the server under test too.
func httpGet(_ url: String, headers: [String: String] = [:], timeout: Int = 10) async throws -> HTTPResponse {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingGet(url, headers: headers, timeout: timeout) })
        }
    }
}

/// Polls the async `condition` every 50 ms for up to `seconds`; returns whether it became true.
func eventuallyAsync(_ seconds: Double = 10, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

private func blockingGet(_ url: String, headers: [String: String], timeout: Int) throws -> HTTPResponse {
    // http://127.0.0.1:PORT/path
    guard url.hasPrefix("http://"), let slash = url.dropFirst(7).firstIndex(of: "/") else {
        throw HTTPTestError.bad("not an http URL: \(url)")
    }
    let authority = url[url.index(url.startIndex, offsetBy: 7)..<slash]
    let path = String(url[slash...])
    let parts = authority.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else { throw HTTPTestError.bad("no port in \(url)") }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPTestError.bad("socket: \(errno)") }
    defer { close(fd) }
    var tv = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    inet_pton(AF_INET, String(parts[0]), &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw HTTPTestError.bad("connect \(url): errno \(errno)") }
    var request = "GET \(path) HTTP/1.1\r\nHost: \(authority)\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += "\r\n"
    let bytes = Array(request.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw HTTPTestError.bad("write failed") }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        data += buffer[0..<n]
    }
    let text = String(decoding: data, as: UTF8.self)
    guard let end = text.range(of: "\r\n\r\n") else { throw HTTPTestError.bad("no response from \(url): \(text)") }
    let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
    let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
    let fields = lines.dropFirst().compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    return HTTPResponse(status: status, headers: fields, body: String(text[end.upperBound...]))
}

enum HTTPTestError: Error {
    case bad(String)
}

/// A logged-in client of a status page: logs in with the printed link once and sends the cookie.
struct StatusClient {
    let base: String
    let cookie: String

    /// `loginURL`: `http://HOST:PORT/login?code=CODE`.
    init(loginURL: String) async throws {
        guard let range = loginURL.range(of: "/login") else { throw HTTPTestError.bad("no /login in \(loginURL)") }
        base = String(loginURL[..<range.lowerBound])
        let response = try await httpGet(loginURL)
        guard response.status == 303, let setCookie = response.header("Set-Cookie").first else {
            throw HTTPTestError.bad("login answered \(response.status)")
        }
        cookie = String(setCookie.split(separator: ";")[0])
    }

    func get(_ path: String) async throws -> HTTPResponse {
        try await httpGet(base + path, headers: ["Cookie": cookie])
    }
}

/// Headless Chromium, when this machine can run it (Debian's `chromium`; `.ci/run` installs it).
enum HeadlessChromium {
    /// The executable, or why there is none (a test says so and skips).
    static let located: (path: String?, reason: String) = {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return (path, "")
        }
        return (nil, "no chromium on this machine (apt-get install chromium)")
    }()

    /// Why the browser checks cannot run here (nil: they can): no chromium, or one that cannot render a
    /// page in this sandbox (checked by loading about:blank once).
    static func unusableReason() async -> String? {
        guard located.path != nil else { return located.reason }
        do {
            let dom = try await run(["--dump-dom"], url: "about:blank", timeout: 60)
            return dom.contains("<html") ? nil : "chromium rendered nothing for about:blank"
        } catch {
            return "chromium cannot run here: \(error)"
        }
    }

    /// Runs chromium headless with `arguments` then `url`; returns standard output, or throws why it could not.
    static func run(_ arguments: [String], url: String, timeout: Double = 90) async throws -> String {
        guard let path = located.path else { throw HTTPTestError.bad(located.reason) }
        let profile = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try await runOffPool(
            path,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile)", "--hide-scrollbars",
            ] + arguments + [url], timeout: timeout)
        guard result.status == 0 else { throw HTTPTestError.bad("chromium exited \(result.status): \(result.stderr.suffix(2000))") }
        return result.stdout
    }

    /// The DOM after load.
    static func dumpDOM(_ url: String) async throws -> String {
        try await run(["--dump-dom"], url: url)
    }

    /// A 1280x900 screenshot in `file`.
    static func screenshot(_ url: String, to file: String) async throws {
        _ = try await run(["--screenshot=\(file)", "--window-size=1280,900"], url: url)
    }
}

/// The number of distinct colours in a PNG (decoded by Tests/MrshClusterTests/png_colours.py).
func pngColourCount(_ path: String) async throws -> Int {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("png_colours.py").path
    let result = try await runOffPool("/usr/bin/env", ["python3", script, path], timeout: 60)
    guard result.status == 0, let count = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw HTTPTestError.bad("png_colours.py failed: \(result.stderr)")
    }
    return count
}

/// Runs a program to its end on a thread of its own, its output in files (chromium's helper processes keep
/// inherited pipes open after it exits; waiting for them on the cooperative pool would stall other tests).
/// Killed after `timeout` seconds.
func runOffPool(_ executable: String, _ arguments: [String], timeout: Double) async throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = try makeTempDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let outPath = directory + "/out"
    let errPath = directory + "/err"
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.standardInput = FileHandle.nullDevice
                process.standardOutput = FileHandle(forWritingAtPath: outPath)
                process.standardError = FileHandle(forWritingAtPath: errPath)
                try process.run()
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return (status, out, err)
}

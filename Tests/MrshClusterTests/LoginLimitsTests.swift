#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import MrshCluster
import MrshTestSupport
import MrshWire
import NIOCore
import Synchronization
import Testing

/// What a peer that has not proved the token (or proved it and then misbehaves) can make a frame server
/// hold: handshake-sized frames only, a bounded number of connections in their handshake, and a frame that
/// never ends times the connection out like silence does.
@Suite("login limits", .serialized)
struct LoginLimitsTests {
    /// A raw TCP connection to 127.0.0.1:`port` (blocking), or nil.
    static func connectRaw(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Reads until the peer closes (true) or `seconds` pass (false).
    static func closedByPeer(_ fd: Int32, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return true }
        }
        return false
    }

    /// Whether the peer has closed `fd`, without waiting (data it sent is read and dropped).
    static func isClosedNow(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { continue }
            return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        }
    }

    /// A frame header declaring a payload of `length` bytes of kind `kind`.
    static func header(payload length: Int, kind: UInt8 = 1) -> [UInt8] {
        let declared = UInt32(length + 2)
        return [UInt8(declared >> 24), UInt8((declared >> 16) & 0xFF), UInt8((declared >> 8) & 0xFF), UInt8(declared & 0xFF),
                WireLimits.protocolVersion, kind]
    }

    static func startServer(roles: Set<PeerRole> = [.worker, .client], handshakeTimeout: Duration = .seconds(10)) async throws -> FrameServer {
        try await FrameServer.start(
            host: "127.0.0.1", port: 0, group: testGroup, token: AuthToken("login-limits-token"), roles: roles,
            handshakeTimeout: handshakeTimeout, logger: testLogger, onConnection: { connection in
                do { for try await _ in connection.inbound {} } catch {}
            })
    }

    @Test("before the handshake, a frame larger than a handshake frame closes the connection at its header")
    func largeFrameBeforeLogin() async throws {
        let server = try await Self.startServer()
        defer { Task { await server.stop() } }
        let fd = try #require(Self.connectRaw(server.address.port))
        defer { close(fd) }
        // 1 MiB declared (well under the 16 MiB frame limit, far over a handshake's): refused at the header,
        // before the payload arrives, so the server never buffers it.
        #expect(Self.sendAll(fd, Self.header(payload: 1 << 20) + [UInt8](repeating: 0x41, count: 1000)))
        #expect(Self.closedByPeer(fd, within: 3), "closed long before the 10 s handshake timeout")
    }

    @Test("connections in their handshake are capped; once they go, a real client logs in")
    func pendingHandshakesAreCapped() async throws {
        let server = try await Self.startServer()
        defer { Task { await server.stop() } }
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<(FrameServer.maxPendingHandshakes + 40) {
            if let fd = Self.connectRaw(server.address.port) { held.append(fd) }
        }
        // The server side is asynchronous: wait until it has seen them all.
        let capped = await eventually(10) { server.pendingHandshakes == FrameServer.maxPendingHandshakes }
        #expect(capped, "pending: \(server.pendingHandshakes)")
        // The connections past the cap were closed at once.
        var closed = Set<Int32>()
        let allRefused = await eventually(5) {
            for fd in held where !closed.contains(fd) && Self.isClosedNow(fd) { closed.insert(fd) }
            return closed.count >= 40
        }
        #expect(allRefused, "closed: \(closed.count)")
        for fd in held { close(fd) }
        held = []
        #expect(await eventually(10) { server.pendingHandshakes == 0 })
        let connection = try await FrameClient.connect(
            to: server.address, group: testGroup, token: AuthToken("login-limits-token"), role: .client)
        await connection.close()
    }

    @Test("an authenticated peer that sends a frame one byte at a time, never ending it, is timed out")
    func endlessFrameAfterLoginTimesOut() async throws {
        let closed = Mutex(false)
        let server = try await FrameServer.start(
            host: "127.0.0.1", port: 0, group: testGroup, token: AuthToken("login-limits-token"), roles: [.worker],
            logger: testLogger, onConnection: { connection in
                connection.startHeartbeats(HeartbeatSettings(interval: .milliseconds(200), timeout: .seconds(1)))
                do { for try await _ in connection.inbound {} } catch {}
                closed.withLock { $0 = true }
            })
        defer { Task { await server.stop() } }
        let fd = try #require(Self.connectRaw(server.address.port))
        defer { close(fd) }
        // The handshake, by hand: read the challenge, answer it, read the verdict.
        var handshake = ClientHandshake(token: AuthToken("login-limits-token"), role: .worker)
        var parser = ByteBuffer()
        var established = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !established {
            let n = recv(fd, &buffer, buffer.count, 0)
            try #require(n > 0, "the server closed during the handshake")
            parser.writeBytes(buffer[0..<n])
            while let frame = try FrameParser().parse(&parser) {
                switch handshake.receive(frame) {
                case .send(let reply):
                    var out = ByteBuffer()
                    reply.encode(into: &out)
                    #expect(Self.sendAll(fd, Array(out.readableBytesView)))
                case .established: established = true
                case .fail(let error): Issue.record("handshake failed: \(error)"); return
                }
            }
        }
        // A 1 KiB frame whose bytes come one every 100 ms: bytes arrive, a frame never does.
        #expect(Self.sendAll(fd, Self.header(payload: 1024)))
        let started = Date()
        for _ in 0..<80 {
            if closed.withLock({ $0 }) { break }
            _ = Self.sendAll(fd, [0x41])
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(closed.withLock { $0 }, "the connection was not timed out")
        // The heartbeat timeout is 1 s; the bound leaves room for a loaded machine, far below the 8 s of bytes.
        #expect(Date().timeIntervalSince(started) < 6)
    }
}

import Foundation
import Glibc
import MrshCluster
import MrshPlan
import MrshWire
import NIOCore
import Testing

/// Protocol version 2 between real processes: sealed frames that a relay alters are refused and close only
/// their connection; a whole job's traffic carries none of its plaintext; servers without the token cannot
/// make a worker or a client believe them; peers of version 1 get a clear error.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SealedWireTests {
    /// Input files whose lines carry words found nowhere else; returns the lines in order.
    static func makeInput(in directory: String, marker: String, files: Int = 3, lines: Int = 1500) throws -> [String] {
        let data = directory + "/data-\(marker)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var all: [String] = []
        for f in 0..<files {
            let text = generatedText(lines: lines, seed: UInt64(f + 3) * 104_729).split(separator: "\n").enumerated().map {
                "\($0.element) \(marker)-out\(f)x\($0.offset)"
            }
            try Data((text.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: data + "/input-\(marker)-\(f).txt"))
            all += text
        }
        return all
    }

    /// What `sort by record` prints for `lines` (an independent computation: bytewise order).
    static func sorted(_ lines: [String]) -> String {
        lines.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { $0 + "\n" }.joined()
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let bytes = Array(needle.utf8)
        guard bytes.count <= haystack.count, let first = bytes.first else { return false }
        var i = 0
        while i <= haystack.count - bytes.count {
            if haystack[i] == first && Array(haystack[i..<(i + bytes.count)]) == bytes { return true }
            i += 1
        }
        return false
    }

    // MARK: A relay that alters frames

    @Test("a relay that flips, replays, reorders or drops a frame of a client connection: the client fails cleanly, the coordinator goes on")
    func tamperedClientConnectionsFailCleanly() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        let lines = try Self.makeInput(in: cluster.directory, marker: "tamper")
        let expected = Self.sorted(lines)
        let job = ["--split-size", "32K", "--reducers", "3", "--quiet", "-e", #"read "data-tamper/*.txt" | sort by record"#]
        let port = try #require(HostPort(cluster.coordinatorAddress)).port
        // Towards the client: its frames from the third on are sealed output and progress (the first two are the
        // challenge and the acceptance). Towards the coordinator: the second frame is the sealed submission.
        let rules: [TamperRule] = [
            TamperRule(towardsServer: false, after: 2, minimumBytes: 200, tamper: .flip),
            TamperRule(towardsServer: true, after: 1, tamper: .replay),
            TamperRule(towardsServer: false, after: 2, tamper: .reorder),
            TamperRule(towardsServer: false, after: 2, tamper: .drop),
        ]
        for rule in rules {
            let proxy = try TamperingProxy(to: port, rule: rule)
            defer { proxy.stop() }
            let client = try cluster.client(job, directory: cluster.directory, through: proxy.address)
            let status = await client.wait(timeout: 60)
            #expect(proxy.tampered == 1, "\(rule.tamper): the relay altered no frame")
            #expect(status != 0, "\(rule.tamper): the client took an altered stream for good")
            #expect(client.stderr.contains("failed authentication"), "\(rule.tamper): \(client.stderr)")
            #expect(!client.stderr.contains("Fatal error"), "\(client.stderr)")
            // Whatever it printed before the bad frame is a true prefix of the output, nothing forged.
            #expect(expected.hasPrefix(client.stdout), "\(rule.tamper): output that is not the job's")
        }
        // Only those connections closed: the coordinator and its workers still run the job exactly.
        let again = try cluster.client(job, directory: cluster.directory)
        #expect(await again.wait() == 0, "\(again.stderr)")
        #expect(again.stdout == expected)
        #expect(cluster.coordinator.stderr.contains("failed authentication"), "\(cluster.coordinator.stderr.suffix(3000))")
    }

    @Test("a relay that flips one byte of a worker's frame mid-job: the worker's connection closes, the job finishes exactly")
    func tamperedWorkerConnectionLosesOnlyThatWorker() async throws {
        let proxy = Locked<TamperingProxy?>(nil)
        defer { proxy.value?.stop() }
        // The first taskDone from the first worker to connect (a frame of some hundred bytes after its
        // registration), towards the coordinator.
        let cluster = try await ProcessCluster.start(workers: 2) { address in
            let relay = try TamperingProxy(
                to: HostPort(address)?.port ?? 0, rule: TamperRule(towardsServer: true, after: 2, minimumBytes: 150, tamper: .flip))
            proxy.set(relay)
            return relay.address
        }
        defer { cluster.stop() }
        let lines = try Self.makeInput(in: cluster.directory, marker: "workerflip")
        let client = try cluster.client(
            ["--split-size", "16K", "--reducers", "3", "--quiet", "-e", #"read "data-workerflip/*.txt" | sort by record"#],
            directory: cluster.directory)
        #expect(await client.wait(timeout: 90) == 0, "\(client.stderr)\n\(cluster.coordinator.stderr.suffix(4000))")
        #expect(client.stdout == Self.sorted(lines))
        #expect(proxy.value?.tampered == 1)
        let log = cluster.coordinator.stderr
        #expect(log.contains("lost: protocol error: a frame failed authentication"), "\(log.suffix(4000))")
    }

    // MARK: What a whole job's traffic shows

    /// Runs a sort on two worker processes with every loopback segment of the cluster's ports captured; returns
    /// the flows, the client's output, the expected output and the strings that must not be seen.
    static func capturedJob(environment: [String: String]) async throws -> (flows: [[UInt8]], output: String, expected: String, secrets: [String])? {
        guard let capture = LoopbackCapture.start() else { return nil }
        let cluster = try await ProcessCluster.start(workers: 2, environment: environment)
        defer { cluster.stop() }
        let marker = "zqv\(UInt32.random(in: 100_000...999_999))"
        let lines = try makeInput(in: cluster.directory, marker: marker, files: 2, lines: 1200)
        var ports = [HostPort(cluster.coordinatorAddress)?.port ?? 0]
        ports += cluster.shuffleAddresses.values.compactMap { HostPort($0)?.port }
        // The coordinator's own shuffle server: from its log when it says, else the workers' fetches show
        // it as the other end of connections to the ports above (they do not go there).
        if let own = firstCapture("shuffle server (?:on )?\\S*:(\\d+)", in: cluster.coordinator.stderr).flatMap(Int.init) { ports.append(own) }
        capture.watch(ports)
        let literal = "\(marker)-out1x"
        let client = try cluster.client(
            ["--split-size", "16K", "--reducers", "3", "--quiet", "-e", #"read "data-\#(marker)/*.txt" | grep "\#(literal)" | sort by record"#],
            directory: cluster.directory)
        let status = await client.wait()
        let flows = capture.stop()
        #expect(status == 0, "\(client.stderr)")
        let kept = lines.filter { $0.contains(literal) }
        // The plan's literal, the input's directory and file names, and output records.
        // (JSON writes "/" as "\/": the directory's name is looked for, not its path.)
        let secrets = [literal, "data-\(marker)", "input-\(marker)-0.txt", (cluster.directory as NSString).lastPathComponent]
            + kept.prefix(5) + kept.suffix(5)
        return (flows, client.stdout, sorted(kept), secrets)
    }

    @Test("the traffic of a whole job carries no plaintext of its plan, its input paths or its output")
    func trafficHasNoPlaintext() async throws {
        guard let sealed = try await Self.capturedJob(environment: [:]) else {
            print("SealedWireTests.trafficHasNoPlaintext skipped: capturing loopback traffic needs root (uid \(getuid()))")
            return
        }
        #expect(sealed.output == sealed.expected)
        let bytes = sealed.flows.reduce(0) { $0 + $1.count }
        // The output alone crosses the wire twice (reducers to coordinator, coordinator to client).
        #expect(bytes > 2 * sealed.expected.utf8.count, "captured only \(bytes) bytes")
        for secret in sealed.secrets {
            #expect(!sealed.flows.contains { Self.contains($0, secret) }, "plaintext on the wire: \(secret)")
        }
        // The same capture of an unsealed run (the benchmark's switch) does see them: the check can fail.
        let plain = try #require(try await Self.capturedJob(environment: ["MRSH_BENCHMARK_UNSEALED_FRAMES": "1"]))
        #expect(plain.output == plain.expected)
        for secret in plain.secrets {
            #expect(plain.flows.contains { Self.contains($0, secret) }, "the capture missed \(secret) in clear text")
        }
    }

    // MARK: Servers without the token

    /// A fake server on 127.0.0.1 that does what a server without the token can: send a challenge, read the
    /// response, accept with a proof it made up, then send `after` (frames it cannot seal). Returns its port;
    /// it serves one connection on a thread of its own.
    static func fakeServer(version: UInt8 = WireLimits.protocolVersion, after: [Frame]) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        let port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            defer { close(fd) }
            let peer = accept(fd, nil, nil)
            guard peer >= 0 else { return }
            defer { close(peer) }
            func send(_ frame: Frame) {
                var out = ByteBuffer()
                frame.encode(into: &out)
                var bytes = Array(out.readableBytesView)
                bytes[4] = version
                _ = LoginLimitsTests.sendAll(peer, bytes)
            }
            send(Frame(kind: .challenge, bytes: [UInt8](repeating: 0x42, count: WireLimits.nonceSize)))
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = recv(peer, &buffer, buffer.count, 0)
            send(Frame(kind: .accepted, bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }))
            for frame in after { send(frame) }
            _ = LoginLimitsTests.closedByPeer(peer, within: 10)
        }
        return port
    }

    @Test("a fake coordinator without the token cannot make a worker run anything, and the worker says why")
    func workerRefusesAFakeCoordinator() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = directory + "/token"
        try writeTokenFile("the-real-cluster-token\n", to: token)
        let target = directory + "/copied"
        let spec = JobSpec(
            id: 0, input: .files(["/etc/hostname"]), mapOps: [.words], shuffle: .aggregate(.count),
            output: .directory(path: target, overwrite: true))
        let task = MapTaskSpec(
            job: JobID(run: "forged", index: 0), spec: spec, task: 0, attempt: 0,
            splits: [.file(path: "/etc/hostname", offset: 0, length: 1 << 20)], partitioner: .hash(partitions: 1),
            memoryBudget: 1 << 20)
        let port = try Self.fakeServer(after: [
            ControlMessage.welcome(
                WorkerWelcome(workerID: "w0", heartbeatInterval: .seconds(1), heartbeatTimeout: .seconds(10), coordinatorShuffleAddress: "127.0.0.1:1")
            ).frame(),
            ControlMessage.runTask(request: 1, .map(task)).frame(),
        ])
        let worker = try Child(mrsh: [
            "worker", "--join", "127.0.0.1:\(port)", "--token-file", token, "--scratch", directory + "/scratch", "--retry", "1",
        ])
        let status = await worker.wait(timeout: 30)
        #expect(status != 0)
        #expect(worker.stderr.contains("did not prove the cluster's token"), "\(worker.stderr)")
        #expect(!worker.stderr.contains("registered as"), "\(worker.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(filesUnder(directory + "/scratch").isEmpty, "\(filesUnder(directory + "/scratch"))")
    }

    @Test("a client talking to a fake coordinator refuses it: no forged output, a non-zero exit")
    func clientRefusesAFakeCoordinator() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = directory + "/token"
        try writeTokenFile("the-real-cluster-token\n", to: token)
        let port = try Self.fakeServer(after: [DataBlock.frame(Array("FORGED OUTPUT\n".utf8))])
        let client = try Child(mrsh: ["--cluster", "127.0.0.1:\(port)", "--token-file", token, "-e", #"read "x" | count"#])
        let status = await client.wait(timeout: 30)
        #expect(status != 0)
        #expect(client.stdout.isEmpty, "\(client.stdout)")
        #expect(client.stderr.contains("did not prove the cluster's token"), "\(client.stderr)")
    }

    // MARK: Peers of version 1

    @Test("a client meeting a server of protocol version 1 says so")
    func versionOneServerIsNamed() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = directory + "/token"
        try writeTokenFile("the-real-cluster-token\n", to: token)
        let port = try Self.fakeServer(version: 1, after: [])
        let client = try Child(mrsh: ["--cluster", "127.0.0.1:\(port)", "--token-file", token, "-e", #"read "x" | count"#])
        #expect(await client.wait(timeout: 30) != 0)
        #expect(client.stderr.contains("protocol version 1, this side version \(WireLimits.protocolVersion)"), "\(client.stderr)")
    }

    @Test("a server meeting a peer of an older version closes with an error frame that names the versions", arguments: [UInt8(1), 2])
    func olderPeerIsToldWhy(version: UInt8) async throws {
        let server = try await LoginLimitsTests.startServer()
        defer { Task { await server.stop() } }
        let fd = try #require(LoginLimitsTests.connectRaw(server.address.port))
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        try #require(n >= 6 + WireLimits.nonceSize)
        #expect(buffer[4] == WireLimits.protocolVersion && buffer[5] == FrameKind.challenge.rawValue)
        // A response of the old version (role, HMAC): what an old worker sends.
        #expect(LoginLimitsTests.sendAll(fd, [0, 0, 0, 35, version, 2, 1] + [UInt8](repeating: 7, count: 32)))
        var reply = ByteBuffer()
        let deadline = Date().addingTimeInterval(5)
        var frame: Frame?
        while frame == nil && Date() < deadline {
            let got = recv(fd, &buffer, buffer.count, 0)
            if got <= 0 { break }
            reply.writeBytes(buffer[0..<got])
            frame = try FrameParser().parse(&reply)
        }
        let error = try #require(frame)
        #expect(error.kind == .error)
        #expect(error.text.contains("version \(version), this side version \(WireLimits.protocolVersion)"), "\(error.text)")
        #expect(LoginLimitsTests.closedByPeer(fd, within: 5))
    }
}

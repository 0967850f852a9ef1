import Foundation
import Glibc
import MrshCluster
import Testing

/// Several hosts: a coordinator, three workers and a client, each in a network namespace of its own,
/// joined by veth pairs to a bridge in a hub namespace (10.213.7.0/24 exists only inside the namespaces).
/// Needs root and `ip`; elsewhere it prints why it skipped. Namespaces are removed even on failure.
@Suite(.serialized, .timeLimit(.minutes(1))) struct NamespaceTests {
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The `ip` commands that make namespace `hub` with a bridge and put each of `hosts` in a namespace of its
    /// own, joined to the bridge by a veth pair, host i at `address(i)`/24.
    static func bridgeSteps(hub: String, hosts: [String], address: (Int) -> String) -> [[String]] {
        var steps: [[String]] = [["netns", "add", hub]]
        steps += [["-n", hub, "link", "add", "br0", "type", "bridge"], ["-n", hub, "link", "set", "br0", "up"]]
        for (i, host) in hosts.enumerated() {
            steps += [
                ["netns", "add", host],
                ["-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", "p\(i)", "netns", hub],
                ["-n", host, "addr", "add", address(i) + "/24", "dev", "eth0"],
                ["-n", host, "link", "set", "eth0", "up"], ["-n", host, "link", "set", "lo", "up"],
                ["-n", hub, "link", "set", "p\(i)", "master", "br0"], ["-n", hub, "link", "set", "p\(i)", "up"],
            ]
        }
        return steps
    }

    /// Runs `ip ARGUMENTS`; returns its error output when it fails.
    static func run(_ arguments: [String]) async -> String? {
        guard let ip, let child = try? Child(ip, arguments) else { return "cannot run ip" }
        let status = await child.wait(timeout: 10)
        return status == 0 ? nil : "ip \(arguments.joined(separator: " ")): \(child.stderr)"
    }

    @Test func wordCountAcrossNamespaces() async throws {
        guard getuid() == 0, Self.ip != nil else {
            print("NamespaceTests skipped: needs root and the ip command (uid \(getuid()))")
            return
        }
        let tag = String(getpid() % 100_000)
        let hub = "mrsh\(tag)hub"
        let hosts = (0..<5).map { "mrsh\(tag)h\($0)" }  // coordinator, three workers, client
        let address = { (i: Int) in "10.213.7.\(i + 1)" }
        var made: [String] = []
        var children: [Child] = []
        let directory = try makeTempDirectory()
        defer {
            for child in children { child.stop() }
            for name in made { _ = try? Child(Self.ip ?? "ip", ["netns", "del", name]).process.waitUntilExit() }
            try? FileManager.default.removeItem(atPath: directory)
        }
        for step in Self.bridgeSteps(hub: hub, hosts: hosts, address: address) {
            if let failure = await Self.run(step) {
                print("NamespaceTests skipped: cannot set up network namespaces: \(failure)")
                return
            }
            if step.first == "netns" { made.append(step[2]) }
        }
        let ip = try #require(Self.ip)
        let tokenFile = directory + "/token"
        try writeTokenFile("namespace-cluster-token\n", to: tokenFile)
        let texts = try DistributedTests.makeCorpus(in: directory, files: 3, lines: 2000)
        let coordinatorAddress = address(0) + ":7070"
        let coordinator = try Child(ip, [
            "netns", "exec", hosts[0], mrshBinary, "coordinator", "--listen", coordinatorAddress, "--token-file", tokenFile,
            "--scratch", directory + "/coordinator",
        ])
        children.append(coordinator)
        #expect(await eventually(10) { coordinator.stderr.contains("mrsh coordinator: listening on") }, "\(coordinator.stderr)")
        for i in 1...3 {
            children.append(
                try Child(ip, [
                    "netns", "exec", hosts[i], mrshBinary, "worker", "--join", coordinatorAddress, "--token-file", tokenFile,
                    "--listen", address(i), "--slots", "1", "--id", "w\(i)", "--scratch", directory + "/worker-\(i)",
                ]))
        }
        let workers = Array(children[1...])
        let registered = await eventually(10) { workers.allSatisfy { $0.stderr.contains("registered as") } }
        #expect(registered, "\(workers.map(\.stderr))")
        let client = try Child(
            ip, [
                "netns", "exec", hosts[4], mrshBinary, "--cluster", coordinatorAddress, "--token-file", tokenFile,
                "--split-size", "16K", "--quiet", "-e", #"read "data/*.txt" | map words | reduce count"#,
            ], directory: directory)
        children.append(client)
        #expect(await client.wait(timeout: 20) == 0, "\(client.stderr)")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        // The shuffle went between namespaces: workers advertised their own addresses.
        for i in 1...3 { #expect(workers[i - 1].stderr.contains("shuffle server \(address(i)):"), "\(workers[i - 1].stderr)") }
        let log = coordinator.stderr
        #expect(log.contains("tasks per worker:"), "\(log)")
    }
}

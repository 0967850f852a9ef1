#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshTestSupport
import Testing

/// The binary as an ordinary user runs it: `nobody`, in a folder it owns, with an ordinary login's
/// environment. Root (CI, the developers) may do what a user may not, so these catch what only fails for users.
@Suite("as an ordinary user", .enabled(if: Unprivileged.isAvailable, "\(Unprivileged.unavailableReason ?? "")"))
struct UnprivilegedTests {
    /// A folder `nobody` owns, with a copy of the binary there when it cannot reach the built one.
    struct Home {
        let path: String
        let binary: String

        init() throws {
            path = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-e2e-nobody")
            binary = try Unprivileged.reachableBinary(MrshProcess.binary.path, copyInto: path)
        }

        func write(_ name: String, _ text: String) throws {
            let target = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: target))
            try Unprivileged.giveTree(path)
        }

        /// `mrsh ARGUMENTS` as nobody in this folder; `temporary` is its TMPDIR (nil: unset, so /tmp).
        func run(_ arguments: [String], input: Data? = nil, temporary: String? = nil) throws -> MrshProcess.Result {
            try MrshProcess.runUnprivileged(
                binary: binary, arguments, input: input, directory: path,
                environment: Unprivileged.environment(home: path, temporary: temporary))
        }

        func remove() { Unprivileged.remove(path) }
    }

    @Test("the embedded default with one worker counts /etc/hostname's one line")
    func embeddedOneShot() throws {
        let home = try Home()
        defer { home.remove() }
        // TMPDIR unset: the cluster directory goes to /tmp, shared with root's earlier runs, as for a real user.
        let result = try home.run(["--workers", "1", "-e", #"read "/etc/hostname" | count"#, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1\n")
        #expect(!result.stderr.contains("Permission denied"), "\(result.stderr)")
    }

    @Test("standard input through the embedded default, and --in-process")
    func standardInput() throws {
        let home = try Home()
        defer { home.remove() }
        for mode in [[], ["--in-process"]] {
            let result = try home.run(
                mode + ["--quiet", "-e", #"grep "b" | count"#], input: Data("a\nb\nbb\nc\n".utf8))
            #expect(result.status == 0, "\(mode): \(result.stderr)")
            #expect(result.stdout == "2\n", "\(mode)")
        }
    }

    @Test("a word count with write on two embedded workers: exact counts, nobody's files, nothing left in TMPDIR")
    func wordCountWithWrite() throws {
        let home = try Home()
        defer { home.remove() }
        var expected: [String: Int] = [:]
        var rng = SplitMix64(seed: 11)
        let vocabulary = ["alpha", "beta", "gamma", "delta", "error", "Zeta", "x"]
        for file in 0..<4 {
            var text = ""
            for _ in 0..<3000 {
                let words = (0..<Int(rng.next() % 6)).map { _ in vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
                for word in words { expected[word, default: 0] += 1 }
                text += words.joined(separator: " ") + "\n"
            }
            try home.write("in/f\(file).txt", text)
        }
        let temporary = home.path + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        try Unprivileged.giveTree(temporary)

        let result = try home.run(
            ["--workers", "2", "--split-size", "16K", "--reducers", "3", "--quiet", "-e",
             #"read "in/*.txt" | map words | reduce count | write out"#],
            temporary: temporary)
        #expect(result.status == 0, "\(result.stderr)")

        let out = home.path + "/out"
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["_SUCCESS", "part-00000", "part-00001", "part-00002"])
        var counted: [String: Int] = [:]
        for part in files where part.hasPrefix("part-") {
            for line in try String(contentsOfFile: out + "/" + part, encoding: .utf8).split(separator: "\n") {
                let fields = line.split(separator: "\t")
                counted[String(fields[0])] = Int(fields[1])
            }
        }
        #expect(counted == expected)
        var info = stat()
        #expect(stat(out + "/part-00000", &info) == 0 && info.st_uid == Unprivileged.account?.uid, "owned by nobody")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary) == [], "the run cleaned up TMPDIR")
    }

    @Test("stream runs its command as nobody on the embedded workers and --in-process, in a scratch directory nobody owns")
    func streamAsNobody() throws {
        let home = try Home()
        defer { home.remove() }
        try home.write("in.txt", "b\na\nc\n")
        for mode in [["--workers", "1"], ["--in-process"]] {
            let result = try home.run(mode + ["--quiet", "-e", #"read "in.txt" | stream "sort; id -un; touch made-here""#])
            #expect(result.status == 0, "\(mode): \(result.stderr)")
            #expect(result.stdout == "a\nb\nc\nnobody\n", "\(mode)")
            #expect(!FileManager.default.fileExists(atPath: home.path + "/made-here"), "the command ran in the task's scratch directory")
        }
    }

    @Test("a script error exits 2 with its caret as for root")
    func scriptError() throws {
        let home = try Home()
        defer { home.remove() }
        let result = try home.run(["-e", "read \"nothing-here/*\" | count"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("nothing-here"), "\(result.stderr)")
    }
}

extension UnprivilegedTests {
    @Test("a file the user may not read is refused before anything runs, naming it")
    func unreadableInput() throws {
        let home = try Home()
        defer { home.remove() }
        try home.write("secret.txt", "root only\n")
        #expect(chmod(home.path + "/secret.txt", 0o000) == 0)
        let result = try home.run(["--in-process", "-e", #"read "secret.txt" | count"#])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("cannot read '") && result.stderr.contains("secret.txt': Permission denied"), "\(result.stderr)")
        #expect(!result.stderr.contains("task"), "no task ran: \(result.stderr)")
    }

    @Test("an output directory under one the user may not write is refused with exit 2, naming it")
    func unwritableOutput() throws {
        let home = try Home()
        defer { home.remove() }
        let result = try home.run(["--in-process", "-e", #"read "/etc/hostname" | write /root/out"#])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("cannot create output directory '/root/out'"), "\(result.stderr)")
    }
}

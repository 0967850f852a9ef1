#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Token files as ssh treats keys: others must not be able to read them, and a token must not be guessable.
@Suite("token files")
struct TokenFileTests {
    @Test("mrsh token writes a 0600 file with a long random token, and never replaces one")
    func tokenCommand() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let made = try MrshProcess.run(["token", "cluster.token"], directory: dir.url)
        #expect(made.status == 0, "\(made.stderr)")
        var info = stat()
        #expect(stat(dir.file("cluster.token").path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let text = try String(contentsOf: dir.file("cluster.token"), encoding: .utf8)
        #expect(text.count == 65 && text.hasSuffix("\n") && text.dropLast().allSatisfy(\.isHexDigit))
        let again = try MrshProcess.run(["token", "cluster.token"], directory: dir.url)
        #expect(again.status == 1)
        #expect(again.stderr.contains("cannot create token file 'cluster.token': File exists"), "\(again.stderr)")
        #expect(try String(contentsOf: dir.file("cluster.token"), encoding: .utf8) == text)
    }

    @Test("a token file others can read, a short token and a short MRSH_TOKEN are refused, saying how to fix it",
          arguments: [0o644, 0o640, 0o666, 0o777, 0o604])
    func refusedModes(_ mode: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("token", "a-long-enough-cluster-token\n")
        #expect(chmod(dir.file("token").path, mode_t(mode)) == 0)
        for command in [["coordinator", "--token-file", "token"], ["worker", "--join", "127.0.0.1:9", "--token-file", "token"],
                        ["--cluster", "127.0.0.1:9", "--token-file", "token", "-e", "count"]] {
            let result = try MrshProcess.run(command, directory: dir.url, timeout: 20)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("token file 'token' can be read by other users (mode \(String(mode, radix: 8)))"),
                    "\(command): \(result.stderr)")
            #expect(result.stderr.contains("chmod 600 'token'") && result.stderr.contains("mrsh token FILE"))
        }
    }

    @Test("a token shorter than 16 characters is refused, from a file or MRSH_TOKEN")
    func shortTokens() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("token", "x\n")
        #expect(chmod(dir.file("token").path, 0o600) == 0)
        let file = try MrshProcess.run(["coordinator", "--token-file", "token"], directory: dir.url, timeout: 20)
        #expect(file.status == 2, "\(file.stderr)")
        #expect(file.stderr.contains("the token in token file 'token' has 1 characters; a token needs at least 16"), "\(file.stderr)")
        let variable = try MrshProcess.run(
            ["--cluster", "127.0.0.1:9", "-e", "count"], directory: dir.url, environment: ["MRSH_TOKEN": "short"], timeout: 20)
        #expect(variable.status == 2, "\(variable.stderr)")
        #expect(variable.stderr.contains("the token in MRSH_TOKEN has 5 characters"), "\(variable.stderr)")
    }
}

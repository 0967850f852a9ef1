import Foundation
import Testing

/// Every script in examples/ runs and prints exactly its `.expected` file.
@Suite("examples")
struct ExamplesTests {
    static let examples: [String] = {
        let directory = MrshProcess.repositoryRoot.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".mr") }.sorted()
    }()

    @Test("examples/ holds the paper's applications")
    func examplesExist() {
        for name in ["wordcount.mr", "grep.mr", "url-frequency.mr", "reverse-links.mr", "inverted-index.mr",
                     "sort.mr", "top-words.mr"] {
            #expect(Self.examples.contains(name), "missing examples/\(name)")
        }
    }

    @Test("an example prints its expected output", arguments: examples)
    func example(_ name: String) throws {
        let expectedURL = MrshProcess.repositoryRoot.appendingPathComponent("examples")
            .appendingPathComponent(name.replacingOccurrences(of: ".mr", with: ".expected"))
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        // Small splits and several reducers make even these small inputs take the distributed paths.
        let result = try MrshProcess.run(["run", "examples/\(name)", "--split-size", "4K", "--reducers", "3", "--quiet"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == expected)
    }
}

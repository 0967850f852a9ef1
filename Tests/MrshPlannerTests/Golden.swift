import Foundation
import Testing

/// Compares text with a golden file beside the tests. With `MRSH_RECORD_GOLDEN=1` the file is rewritten and
/// the test fails, so a re-recording is never silent.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["MRSH_RECORD_GOLDEN"] == "1" {
            try? Data(actual.utf8).write(to: url)
            Issue.record("re-recorded \(name); unset MRSH_RECORD_GOLDEN and run again", sourceLocation: sourceLocation)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file \(name) (record with MRSH_RECORD_GOLDEN=1)", sourceLocation: sourceLocation)
            return
        }
        #expect(actual == expected, "golden \(name) differs", sourceLocation: sourceLocation)
    }
}

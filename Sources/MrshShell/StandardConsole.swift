import Foundation
import Synchronization
import MrshDataPath
import MrshControl
import MrshPlan

/// The console of the one-shot and script modes: messages on standard error, a live progress line only when
/// standard error is a terminal, the job summary as one line.
public final class StandardConsole: SessionConsole {
    private let progressLine: StatusLine?

    /// - Parameter liveProgress: redraw a progress line on standard error (when it is a terminal).
    public init(liveProgress: Bool) {
        progressLine = liveProgress ? StatusLine() : nil
    }

    public func diagnostic(_ text: String) {
        progressLine?.clear()
        StandardError.write(text.hasSuffix("\n") ? text : text + "\n")
    }

    public func error(_ message: String) {
        progressLine?.clear()
        StandardError.write("mrsh: error: \(message)\n")
    }

    public func explain(_ text: String) {
        StandardOutput.write(text)
    }

    public func progress(_ progress: JobProgress) {
        progressLine?.show(StatusLine.describe(progress))
    }

    public func finished(_ summary: JobSummary, show: Bool) {
        progressLine?.clear()
        if show { StandardError.write("mrsh: " + SummaryLine.render(summary) + "\n") }
    }
}

/// A status line on standard error, redrawn in place.
final class StatusLine: Sendable {
    private let state = Mutex<Int>(0)

    public init() {}

    /// Draws `text` over the previous line.
    public func show(_ text: String) {
        state.withLock { width in
            let padding = max(0, width - text.count)
            StandardError.write("\r" + text + String(repeating: " ", count: padding))
            width = text.count
        }
    }

    /// Erases the line, if one is shown.
    public func clear() {
        state.withLock { width in
            if width > 0 { StandardError.write("\r" + String(repeating: " ", count: width) + "\r") }
            width = 0
        }
    }

    /// `job 1/2 map 12/40 reduce 0/8 · 1.2 GiB read · 3.4 s`
    public static func describe(_ progress: JobProgress) -> String {
        var text = ""
        if progress.jobCount > 1 { text += "job \(progress.job + 1)/\(progress.jobCount)  " }
        text += "map \(progress.mapsDone)/\(progress.mapsTotal)"
        if progress.reducesTotal > 0 { text += "  reduce \(progress.reducesDone)/\(progress.reducesTotal)" }
        let seconds = max(progress.elapsed, 0.001)
        let rate = Double(progress.bytesRead) / seconds
        text += "  \(JobSummary.formatBytes(progress.bytesRead)) read  \(JobSummary.formatBytes(Int64(rate)))/s"
        text += "  \(String(format: "%.1f", progress.elapsed)) s"
        return text
    }
}

/// Unbuffered writes of whole messages to standard error and standard output (messages, not records).
public enum StandardError {
    public static func write(_ text: String) { writeAll(2, text) }
}

public enum StandardOutput {
    public static func write(_ text: String) { writeAll(1, text) }
}

private func writeAll(_ descriptor: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(descriptor, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

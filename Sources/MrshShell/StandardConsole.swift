import Foundation
import Synchronization
import MrshDataPath
import MrshControl
import MrshPlan

/// The console of the one-shot and script modes: messages on standard error, a live progress line only when
/// standard error is a terminal, the job summary as one line.
public final class StandardConsole: SessionConsole {
    private let progressLine: StatusLine?
    private let verbose: Bool

    /// - Parameters:
    ///   - liveProgress: redraw a progress line on standard error (when it is a terminal).
    ///   - verbose: add the counters to the summary line (`JobSummary.description(verbose:)`).
    public init(liveProgress: Bool, verbose: Bool = false) {
        progressLine = liveProgress ? StatusLine() : nil
        self.verbose = verbose
    }

    public func diagnostic(_ text: String) {
        progressLine?.clear()
        TerminalWriter.standardError.write(text.hasSuffix("\n") ? text : text + "\n")
    }

    public func error(_ failure: Failure) {
        progressLine?.clear()
        TerminalWriter.standardError.write(failure.line)
    }

    public func explain(_ text: String) {
        TerminalWriter.standardOutput.write(text)
    }

    public func progress(_ progress: JobProgress) {
        progressLine?.show(ProgressLine.render(progress))
    }

    public func finished(_ summary: JobSummary, show: Bool) {
        progressLine?.clear()
        if show { TerminalWriter.standardError.write("mrsh: \(summary.description(verbose: verbose))\n") }
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
            TerminalWriter.standardError.write("\r" + text + String(repeating: " ", count: padding))
            width = text.count
        }
    }

    /// Erases the line, if one is shown.
    public func clear() {
        state.withLock { width in
            if width > 0 { TerminalWriter.standardError.write("\r" + String(repeating: " ", count: width) + "\r") }
            width = 0
        }
    }
}

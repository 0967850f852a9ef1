import Foundation
import Synchronization
import MrshPlan

/// How the REPL presents one statement's results: a `ShellOutput` for the backend.
///
/// On a terminal, records are collected into a `ResultTable` (the first `limit` rows kept, the rest
/// counted) and shown by `finish()`, a progress line is rewritten in place on standard error, and the
/// job summary follows the table. Otherwise records are copied to standard output as they come, in
/// buffered blocks, and progress is not shown.
final class ReplOutput: ShellOutput {
    struct Presentation: Sendable {
        /// Records as an aligned table (standard output is a terminal) or as plain lines.
        var table: Bool
        var limit: Int
        var width: Int?
        var style: Style
        var errorStyle: Style
        /// A live progress line on standard error.
        var progress: Bool
        /// No summary line.
        var quiet: Bool
    }

    private struct State {
        var table: ResultTable
        var sawEndOfRecords = false
        var plainBuffer: [UInt8] = []
        var progressShown = false
        var lastProgress: UInt64 = 0
        var summaries: [String] = []
    }

    let presentation: Presentation
    private let out: TerminalWriter
    private let err: TerminalWriter
    private let state: Mutex<State>

    init(_ presentation: Presentation, out: TerminalWriter = .standardOutput, err: TerminalWriter = .standardError) {
        self.presentation = presentation
        self.out = out
        self.err = err
        state = Mutex(State(table: ResultTable(limit: presentation.limit)))
    }

    func records(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { s in
            if presentation.table {
                s.table.append(bytes)
            } else {
                s.plainBuffer.append(contentsOf: bytes)
                if s.plainBuffer.count >= 1 << 16 { flushPlain(&s) }
            }
        }
    }

    /// Plain records to a real descriptor are written by the backend's writer thread, not by `records(_:)`:
    /// a standard output that does not drain must not block the job's (cooperative) thread.
    var recordsDescriptor: Int32? { presentation.table || out.fd < 0 ? nil : out.fd }

    func endOfRecords() {
        state.withLock { $0.sawEndOfRecords = true }
    }

    func message(_ text: String) {
        state.withLock { s in
            clearProgress(&s)
            flushPlain(&s)
            out.write(text.hasSuffix("\n") ? text : text + "\n")
        }
    }

    func diagnostic(_ text: String) {
        state.withLock { s in
            clearProgress(&s)
            flushPlain(&s)
            err.write(text.hasSuffix("\n") ? text : text + "\n")
        }
    }

    func progress(_ p: JobProgress) {
        guard presentation.progress else { return }
        state.withLock { s in
            let now = DispatchTime.now().uptimeNanoseconds
            guard now &- s.lastProgress >= 80_000_000 else { return }
            s.lastProgress = now
            var line = ProgressLine.render(p)
            if let width = presentation.width { line = DisplayWidth.truncate(line, to: width - 1) }
            err.write("\r\u{1B}[K" + presentation.errorStyle.dim(line))
            s.progressShown = true
        }
    }

    func summary(_ text: String) {
        state.withLock { $0.summaries.append(text) }
    }

    /// Ends the statement: clears the progress line, shows the table and its row count, then the summary.
    func finish(cancelled: Bool) {
        state.withLock { s in
            clearProgress(&s)
            flushPlain(&s)
            if presentation.table && (s.sawEndOfRecords || s.table.totalRows > 0) {
                s.table.finish()
                if !cancelled {
                    out.write(s.table.renderRows(width: presentation.width))
                    err.write(presentation.errorStyle.dim(s.table.footer) + "\n")
                }
            }
            if !presentation.quiet {
                for line in s.summaries { err.write(presentation.errorStyle.dim(line) + "\n") }
            }
            s.summaries.removeAll()
        }
    }

    /// The collected table (for `:describe`).
    var table: ResultTable { state.withLock { $0.table } }

    private func clearProgress(_ s: inout State) {
        guard s.progressShown else { return }
        err.write("\r\u{1B}[K")
        s.progressShown = false
    }

    private func flushPlain(_ s: inout State) {
        guard !s.plainBuffer.isEmpty else { return }
        s.plainBuffer.withUnsafeBytes { out.write($0) }
        s.plainBuffer.removeAll(keepingCapacity: true)
    }
}

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
        /// `:mode`: the table (when `table` is true; plain records otherwise) or a streaming format.
        var format: OutputFormat = .table
        /// Add the hint that `:chart` can draw a two-column result with numbers in its second column.
        var chartHint: Bool = false

        /// Records are formatted as they stream rather than collected into a table.
        var streams: Bool { format != .table || !table }
    }

    private struct State {
        var table: ResultTable
        var sawEndOfRecords = false
        var plainBuffer: [UInt8] = []
        var progressShown = false
        var lastProgress: UInt64 = 0
        var summaries: [String] = []
        var formatter: RecordFormatter
        /// The current pipeline's field names (the table's header row), when the script named them all.
        var fieldNames: [String]?
    }

    let presentation: Presentation
    private let out: TerminalWriter
    private let err: TerminalWriter
    private let state: Mutex<State>

    init(_ presentation: Presentation, out: TerminalWriter = .standardOutput, err: TerminalWriter = .standardError) {
        self.presentation = presentation
        self.out = out
        self.err = err
        state = Mutex(
            State(
                table: ResultTable(limit: presentation.limit),
                formatter: RecordFormatter(format: presentation.format == .table ? .tsv : presentation.format)))
    }

    func records(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { s in
            // Kept (the first `limit` rows) in every mode, for `:chart`.
            s.table.append(bytes)
            if presentation.streams {
                s.formatter.append(bytes, to: &s.plainBuffer)
                if s.plainBuffer.count >= 1 << 16 { flushPlain(&s) }
            }
        }
    }

    /// Plain records to a real descriptor are written by the backend's writer thread, not by `records(_:)`:
    /// a standard output that does not drain must not block the job's (cooperative) thread.
    var recordsDescriptor: Int32? { presentation.table || out.fd < 0 ? nil : out.fd }

    func fieldNames(_ names: [String]?) {
        state.withLock { s in
            s.fieldNames = names
            if presentation.streams {
                s.formatter.finish(to: &s.plainBuffer)
                s.formatter = RecordFormatter(format: presentation.format == .table ? .tsv : presentation.format, fieldNames: names)
            }
        }
    }

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
            if !cancelled { s.formatter.finish(to: &s.plainBuffer) }
            flushPlain(&s)
            let sawRecords = s.sawEndOfRecords || s.table.totalRows > 0
            if sawRecords { s.table.finish() }
            if presentation.table && sawRecords && !cancelled {
                var footer = s.table.footer
                if presentation.chartHint && ChartData.isOffered(for: s.table) { footer += "  (:chart draws it as bars)" }
                if presentation.format == .table {
                    out.write(s.table.renderRows(width: presentation.width, header: s.fieldNames, headerStyle: presentation.style.dim))
                }
                err.write(presentation.errorStyle.dim(footer) + "\n")
            }
            if !presentation.quiet {
                for line in s.summaries { err.write(presentation.errorStyle.dim(line) + "\n") }
            }
            s.summaries.removeAll()
        }
    }

    /// The last pipeline's field names, when it named them all (for `:describe`).
    var namedFields: [String]? { state.withLock { $0.fieldNames } }

    /// The collected table (for `:describe` and `:chart`): the first `limit` rows, and how many there were.
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

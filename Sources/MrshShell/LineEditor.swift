@preconcurrency import CLibEdit
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// libedit's line editor on the process's terminal: emacs key bindings (Ctrl-R searches history backwards),
/// a prompt, history, Tab completion through a `Completer`, Ctrl-C that abandons the line, and bracketed
/// paste: while a line is read the terminal is asked to mark pasted text (`ESC [200~` ... `ESC [201~`), so
/// that the shell knows more pasted lines follow the one just read (`morePending`).
final class LineEditor {
    /// What one `readLine` produced.
    enum Input: Equatable {
        /// A line, without its newline (may hold newlines when a multi-line history entry was recalled).
        case line(String)
        /// Ctrl-C: the line was abandoned.
        case interrupted
        /// Ctrl-D on an empty line, or end of input.
        case endOfInput
        /// A bracketed paste ended on an empty line while `submitOnPasteEnd` was asked for: the pasted
        /// lines are all there.
        case pasteEnded
    }

    /// libedit's `EditLine *`.
    private let editLine: OpaquePointer
    let history: LineHistory
    /// The prompt as a C string that outlives each prompt callback.
    private var promptBuffer: UnsafeMutablePointer<CChar>
    /// Completes the word before the cursor.
    var completer: Completer
    /// Where candidate lists are printed.
    private let output: TerminalWriter
    /// Set by the Ctrl-C key during `el_gets`.
    private var interrupted = false
    /// Between the start and the end mark of a bracketed paste.
    private(set) var inPaste = false
    /// Set when the end of a paste ended `el_gets` on an empty line.
    private var pasteEnded = false
    /// Whether the end of a paste on an empty line ends `readLine` (`.pasteEnded`).
    private var submitOnPasteEnd = false
    /// Whether the terminal understands the escape that turns bracketed paste on (not TERM=dumb).
    private let bracketedPaste: Bool

    /// Fails when libedit cannot start (out of memory, or no usable terminal); the shell then reads
    /// plain lines.
    init?(program: String, history: LineHistory, completer: Completer, output: TerminalWriter, bracketedPaste: Bool = true) {
        guard let el = mrsh_el_init(program) else { return nil }
        InterruptMonitor.shared.install()
        editLine = el
        self.history = history
        self.completer = completer
        self.output = output
        self.bracketedPaste = bracketedPaste
        promptBuffer = Self.cString("")
        _ = mrsh_el_set_clientdata(el, Unmanaged.passUnretained(self).toOpaque())
        _ = mrsh_el_set_editor(el, "emacs")
        _ = mrsh_el_set_signal(el, 1)
        _ = mrsh_el_set_history(el, history.handle)
        _ = mrsh_el_set_prompt(el) { el in
            guard let el, let editor = LineEditor.from(el) else { return nil }
            return editor.promptBuffer
        }
        _ = mrsh_el_addfn(el, "mrsh-complete", "Complete the word before the cursor") { el, _ in
            guard let el, let editor = LineEditor.from(el) else { return UInt8(CC_ERROR) }
            return editor.completeAtCursor()
        }
        _ = mrsh_el_bind(el, "^I", "mrsh-complete")
        _ = mrsh_el_edit_mode_without_signals(el)
        _ = mrsh_el_addfn(el, "mrsh-interrupt", "Abandon the line") { el, _ in
            guard let el, let editor = LineEditor.from(el) else { return UInt8(CC_ERROR) }
            editor.interrupted = true
            editor.output.write("^C\n")
            return UInt8(CC_NEWLINE)
        }
        _ = mrsh_el_bind(el, "^C", "mrsh-interrupt")
        _ = mrsh_el_addfn(el, "mrsh-paste-start", "Start of pasted text") { el, _ in
            guard let el, let editor = LineEditor.from(el) else { return UInt8(CC_ERROR) }
            editor.inPaste = true
            return UInt8(CC_NORM)
        }
        _ = mrsh_el_bind(el, "\\e[200~", "mrsh-paste-start")
        _ = mrsh_el_addfn(el, "mrsh-paste-end", "End of pasted text") { el, _ in
            guard let el, let editor = LineEditor.from(el) else { return UInt8(CC_ERROR) }
            editor.inPaste = false
            var cursor: Int32 = 0
            var length: Int32 = 0
            _ = mrsh_el_line(el, &cursor, &length)
            if length == 0 && editor.submitOnPasteEnd {
                editor.pasteEnded = true
                return UInt8(CC_NEWLINE)
            }
            return UInt8(CC_NORM)
        }
        _ = mrsh_el_bind(el, "\\e[201~", "mrsh-paste-end")
        // Ctrl-R: incremental search backwards through history (emacs mode's default, said explicitly).
        _ = mrsh_el_bind(el, "^R", "em-inc-search-prev")
        _ = mrsh_el_source_default(el)
    }

    deinit {
        el_end(editLine)
        free(promptBuffer)
    }

    /// A C copy of `text`, released with `free`.
    private static func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        // strdup fails only when malloc does, which the shell cannot survive anyway.
        guard let copy = strdup(text) else { fatalError("mrsh: out of memory") }
        return copy
    }

    private static func from(_ el: OpaquePointer) -> LineEditor? {
        guard let data = mrsh_el_get_clientdata(el) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
    }

    /// Shows `prompt` and reads one line.
    /// - Parameter submitOnPasteEnd: the end of a paste on an empty line returns `.pasteEnded` (the shell
    ///   holds pasted lines back until the paste is complete).
    func readLine(prompt: String, submitOnPasteEnd: Bool = false) -> Input {
        free(promptBuffer)
        promptBuffer = Self.cString(prompt)
        var count: Int32 = 0
        interrupted = false
        pasteEnded = false
        self.submitOnPasteEnd = submitOnPasteEnd
        _ = mrsh_el_prepare_terminal(editLine)
        if bracketedPaste { output.write("\u{1B}[?2004h") }
        let text = el_gets(editLine, &count).map { String(cString: $0) }
        if bracketedPaste { output.write("\u{1B}[?2004l") }
        if interrupted {
            inPaste = false
            return .interrupted
        }
        if pasteEnded { return .pasteEnded }
        guard let text else {
            // -1 with EINTR: a signal that libedit did not handle; treat it like Ctrl-C.
            return count < 0 && errno == EINTR ? .interrupted : .endOfInput
        }
        var line = Substring(text)
        if line.last == "\n" { line = line.dropLast() }
        return .line(String(line))
    }

    /// Whether more input follows the line just read at once: inside a bracketed paste, or bytes already
    /// waiting on the terminal (a paste without brackets, or lines typed ahead while a job ran). Waits
    /// `grace` seconds for input, so that a paste the terminal writes in several pieces counts as one.
    func morePending(grace: Double = 0.03) -> Bool {
        if inPaste { return true }
        var poller = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, Int32(grace * 1000)) > 0 && poller.revents & Int16(POLLIN) != 0
    }

    /// The Tab key: inserts the common part of the candidates, or lists them.
    private func completeAtCursor() -> UInt8 {
        var cursor: Int32 = 0
        var length: Int32 = 0
        guard let buffer = mrsh_el_line(editLine, &cursor, &length) else { return UInt8(CC_ERROR) }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
        let line = String(decoding: bytes, as: UTF8.self)
        let result = completer.complete(line: line, cursor: Int(cursor))
        guard !result.candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        if result.candidates.count == 1, let only = result.candidates.first {
            insert(String(decoding: only.text.utf8.dropFirst(result.word.utf8.count), as: UTF8.self))
            insert(only.terminator)
            return UInt8(CC_REFRESH)
        }
        let common = result.commonPrefix
        if common.utf8.count > result.word.utf8.count {
            insert(String(decoding: common.utf8.dropFirst(result.word.utf8.count), as: UTF8.self))
            return UInt8(CC_REFRESH)
        }
        output.write("\n" + CandidateList.render(result.candidates.map(\.text), width: Terminal.width(fd: 1) ?? 80))
        return UInt8(CC_REDISPLAY)
    }

    private func insert(_ text: String) {
        guard !text.isEmpty else { return }
        _ = el_insertstr(editLine, text)
    }
}

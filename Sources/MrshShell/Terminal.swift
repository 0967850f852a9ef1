#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Facts about the terminal and how to style text on it.
public struct Terminal: Sendable {
    public var inputIsTerminal: Bool
    public var outputIsTerminal: Bool
    public var errorIsTerminal: Bool
    /// Colours on standard output / error: only on a terminal, and not when NO_COLOR is set.
    public var color: Bool
    public var errorColor: Bool

    /// The terminal of this process.
    public static func current(environment: [String: String]) -> Terminal {
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == "dumb"
        let out = isatty(1) == 1
        let err = isatty(2) == 1
        return Terminal(
            inputIsTerminal: isatty(0) == 1, outputIsTerminal: out, errorIsTerminal: err,
            color: out && !noColor && !dumb, errorColor: err && !noColor && !dumb)
    }

    /// The width of the terminal on `fd`, if it is one.
    public static func width(fd: Int32) -> Int? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}

/// ANSI styles, applied only when colour is on.
struct Style: Sendable {
    let enabled: Bool
    func bold(_ s: String) -> String { wrap(s, "1") }
    func dim(_ s: String) -> String { wrap(s, "2") }
    func red(_ s: String) -> String { wrap(s, "31") }
    func yellow(_ s: String) -> String { wrap(s, "33") }
    private func wrap(_ s: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
}

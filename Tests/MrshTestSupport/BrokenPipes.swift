#if canImport(Glibc)
import Glibc
#endif

/// Every test target runs in one process: a child that exits before reading all of its standard input must
/// not kill that process by SIGPIPE when a test writes the input. With SIGPIPE ignored the write fails
/// with EPIPE instead. Every launcher of child processes calls `ignore()` first.
public enum BrokenPipes {
    private static let ignored: Void = { signal(SIGPIPE, SIG_IGN) }()
    public static func ignore() { _ = ignored }
}

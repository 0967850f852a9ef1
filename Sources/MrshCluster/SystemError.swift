import Glibc

/// A failed system call, naming the call, the path and errno.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "\(call) '\(path)': \(String(cString: strerror(errno)))"
    }

    /// Runs `body` again while it fails with EINTR; throws a `SystemError` for any other failure.
    static func retrying<T: BinaryInteger>(_ call: String, _ path: String, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code != EINTR { throw SystemError(call: call, path: path, errno: code) }
        }
    }
}

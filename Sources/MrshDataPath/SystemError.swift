#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: the call's name, the path or object it was about, and `errno`.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var subject: String
    public var errno: Int32

    public init(call: String, subject: String, errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return subject.isEmpty ? "\(call): \(reason)" : "\(call) '\(subject)': \(reason)"
    }
}

/// The one wrapper every system call of the engine goes through: retries `EINTR` and throws a
/// `SystemError` naming the call (and `subject`, usually a path) when the result is negative.
@inline(__always)
@discardableResult
package func sys<T: BinaryInteger>(_ call: String, _ subject: @autoclosure () -> String = "", _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(call: call, subject: subject(), errno: code)
    }
}

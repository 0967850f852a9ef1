/// An operator that cannot be compiled: a bad regular expression, an empty separator, a field number
/// below 1. Users cause these with their pipeline text, so they are values with a readable message.
public struct OperatorError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

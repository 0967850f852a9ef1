
/// Receives the final records of a plan: chunks of whole newline-terminated lines, in output order.
/// A class, so that the engine can hand it around without copies.
public protocol RecordSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Suspends until the sink can take another chunk: the backpressure of a sink whose writes complete
    /// later (a network client). The output streamer awaits it before each chunk. By default it returns at once.
    func awaitCapacity() async throws
}

extension RecordSink {
    public func awaitCapacity() async throws {}
}

/// A sink that keeps everything in memory (tests, small results).
public final class CollectingSink: RecordSink {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        bytes.append(contentsOf: chunk)
    }

    /// The output lines (without terminators), decoded leniently.
    public var lines: [String] {
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

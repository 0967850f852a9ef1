import MrshDataPath
import Synchronization
@testable import MrshShell

/// A backend that answers from canned records, for tests of the REPL without the engine.
final class FakeBackend: ShellBackend {
    private let state = Mutex<(bindings: [String], options: [String: String], executed: [String])>(([], ["reducers": "4"], []))
    let records: [String: String]

    /// - Parameter records: statement text -> records it prints.
    init(bindings: [String] = [], records: [String: String] = [:]) {
        self.records = records
        state.withLock { $0.bindings = bindings }
    }

    var executed: [String] { state.withLock { $0.executed } }

    func execute(
        _ source: String, sourceName: String, output: any ShellOutput, cancellation: CancellationFlag
    ) async -> ShellStatus {
        state.withLock { $0.executed.append(source) }
        if source.hasPrefix("let ") {
            let name = String(source.dropFirst(4).prefix(while: { $0 != " " }))
            state.withLock { $0.bindings.append(name) }
            return .success
        }
        guard let text = records[source] else {
            output.diagnostic("\(sourceName):1:1: error: unknown statement")
            return .failed(exitStatus: 2)
        }
        Array(text.utf8).withUnsafeBytes { output.records($0) }
        output.endOfRecords()
        output.summary("done")
        return .success
    }

    func bindingNames() async -> [String] { state.withLock { $0.bindings } }

    func options() async -> [ShellOption] {
        state.withLock { s in s.options.sorted { $0.key < $1.key }.map { ShellOption(name: $0.key, value: $0.value, summary: "") } }
    }

    func setOption(_ name: String, to value: String) async -> Failure? {
        guard Int(value) != nil else { return Failure("\(name) must be a number", status: .scriptError) }
        state.withLock { $0.options[name] = value }
        return nil
    }

    func workers() async -> [ShellWorker] { [ShellWorker(name: "local-0", state: "idle", running: 0, completed: 3)] }
}

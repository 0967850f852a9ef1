import Synchronization

/// A one-way flag with an action to run when it is set (immediately if it already is).
final class CancelFlag: Sendable {
    private struct State {
        var set = false
        var action: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    var isSet: Bool { state.withLock { $0.set } }

    func set() {
        let action = state.withLock { s -> (@Sendable () -> Void)? in
            s.set = true
            defer { s.action = nil }
            return s.action
        }
        action?()
    }

    func onSet(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { s -> Bool in
            if s.set { return true }
            s.action = action
            return false
        }
        if runNow { action() }
    }
}

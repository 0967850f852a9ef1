import MrshPlan

/// `grep` / `grep not`: passes the record on when it matches (or, negated, when it does not).
final class GrepStage: RecordStage {
    private let matcher: TextMatcher
    private let negated: Bool

    init(_ pattern: TextPattern, negated: Bool) throws {
        matcher = try TextMatcher(pattern, positions: false, context: negated ? "grep not" : "grep")
        self.negated = negated
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        if matcher.matches(record) != negated {
            try next(record)
        }
    }
}

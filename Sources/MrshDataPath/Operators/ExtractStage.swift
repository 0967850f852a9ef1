import MrshPlan

/// `extract`: every non-overlapping match becomes a record (group 1 when the regex has a group).
///
/// Like Python's `findall`: an empty match is emitted too and the search then moves on by one byte,
/// so a pattern such as `a*` cannot loop forever. Outputs are slices of the input.
final class ExtractStage: RecordStage {
    private let matcher: TextMatcher

    init(_ pattern: TextPattern) throws {
        if case .literal(let text) = pattern, text.isEmpty {
            throw OperatorError("extract: the text to extract must not be empty")
        }
        matcher = try TextMatcher(pattern, positions: true, context: "extract")
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let n = record.count
        var from = 0
        while from <= n, let match = matcher.firstMatch(in: record, from: from) {
            let emitted = match.emitted
            try next(UnsafeRawBufferPointer(rebasing: record[emitted]))
            from = match.whole.isEmpty ? match.whole.upperBound + 1 : match.whole.upperBound
        }
    }
}

import MrshLanguage

/// Line and column (in Unicode scalars) of every scalar boundary of a source, to check `SourceRange`s.
struct SourceIndex {
    /// UTF-8 offset -> (line, column) at each scalar boundary, including the end of the source.
    private var positions: [Int: (line: Int, column: Int)] = [:]
    private let count: Int

    init(_ source: String) {
        var offset = 0
        var line = 1
        var column = 1
        for scalar in source.unicodeScalars {
            positions[offset] = (line, column)
            offset += UTF8.width(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        positions[offset] = (line, column)
        count = offset
    }

    func check(_ range: SourceRange, _ what: @autoclosure () -> String) {
        check(range.start, what())
        check(range.end, what())
        precondition(range.start.offset <= range.end.offset, "\(what()): range ends before it starts")
    }

    private func check(_ location: SourceLocation, _ what: String) {
        precondition(location.offset >= 0 && location.offset <= count, "\(what): offset \(location.offset) outside 0...\(count)")
        guard let expected = positions[location.offset] else {
            preconditionFailure("\(what): offset \(location.offset) inside a Unicode scalar")
        }
        precondition(
            expected.line == location.line && expected.column == location.column,
            "\(what): offset \(location.offset) is \(expected.line):\(expected.column), range says \(location.line):\(location.column)")
    }
}

/// Completion candidates laid out in columns, like a shell's listing.
enum CandidateList {
    static func render(_ names: [String], width: Int) -> String {
        guard !names.isEmpty else { return "" }
        let columnWidth = (names.map { DisplayWidth.of($0) }.max() ?? 0) + 2
        let columns = max(1, min(names.count, width / max(columnWidth, 1)))
        let rows = (names.count + columns - 1) / columns
        var out = ""
        for r in 0..<rows {
            var line = ""
            for c in 0..<columns {
                let i = c * rows + r
                guard i < names.count else { break }
                let name = names[i]
                let isLast = c == columns - 1 || (c + 1) * rows + r >= names.count
                line += isLast ? name : name + String(repeating: " ", count: columnWidth - DisplayWidth.of(name))
            }
            out += line + "\n"
        }
        return out
    }
}

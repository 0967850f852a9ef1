/// Records shown one field per line, like psql's expanded display: for `:describe` samples whose table
/// would be wider than the terminal.
///
/// ```
/// -- record 1
/// [1]  192.0.2.3
/// [2]  -
/// ```
enum ExpandedView {
    static func render(_ rows: [[String]], headerStyle: (String) -> String = { $0 }) -> String {
        let labelWidth = "[\(rows.map(\.count).max() ?? 0)]".count
        var out = ""
        for (index, row) in rows.enumerated() {
            out += headerStyle("-- record \(index + 1)") + "\n"
            for (field, value) in row.enumerated() {
                let label = "[\(field + 1)]"
                out += headerStyle(label) + String(repeating: " ", count: labelWidth - label.count + 2) + value + "\n"
            }
        }
        return out
    }

    /// Whether any line of `rendered` is wider than `width` columns.
    static func overflows(_ rendered: String, width: Int?) -> Bool {
        guard let width else { return false }
        return rendered.split(separator: "\n").contains { DisplayWidth.of(String($0)) > width }
    }
}

import Foundation

/// The bars of `:chart`: a label and a number per row of a result of two columns (the first the label, the
/// second a number, as `reduce count` and `sort by value` make).
struct ChartData: Sendable, Equatable {
    struct Bar: Sendable, Equatable {
        var label: String
        /// The value as the result wrote it (`3`, `2.50`).
        var text: String
        var value: Double
    }

    var bars: [Bar]
    /// Rows of the result that the table did not keep (past `:set limit`): the chart shows the first rows.
    var omitted: Int

    /// Nil unless every kept row has two fields and the second is a number (and there is at least one row).
    init?(_ table: ResultTable) {
        guard !table.rows.isEmpty else { return nil }
        var bars: [Bar] = []
        for row in table.rows {
            guard row.count == 2, ResultTable.isNumber(row[1]), let value = Double(row[1]) else { return nil }
            bars.append(Bar(label: row[0], text: row[1], value: value))
        }
        self.bars = bars
        omitted = table.totalRows - table.rows.count
    }

    /// Whether a result is worth the hint that `:chart` draws it: two rows or more of a label and a number.
    static func isOffered(for table: ResultTable) -> Bool {
        (ChartData(table)?.bars.count ?? 0) >= 2
    }

    init(bars: [Bar], omitted: Int = 0) {
        self.bars = bars
        self.omitted = omitted
    }

    /// Horizontal bars in Unicode block characters, scaled so that the largest value fills the room the
    /// terminal's `width` leaves after the labels and values: `label  ████▌ 12`. Bars of negative values
    /// are empty (the value is still printed).
    func renderText(width: Int) -> String {
        let labelWidth = min(bars.map { DisplayWidth.of($0.label) }.max() ?? 0, max(8, width / 3))
        let valueWidth = bars.map { DisplayWidth.of($0.text) }.max() ?? 0
        let room = max(10, width - labelWidth - valueWidth - 4)
        let largest = bars.map(\.value).max() ?? 0
        var out = ""
        for bar in bars {
            var label = DisplayWidth.truncate(bar.label, to: labelWidth)
            label += String(repeating: " ", count: max(0, labelWidth - DisplayWidth.of(label)))
            let eighths = largest > 0 && bar.value > 0 ? Int((bar.value / largest * Double(room * 8)).rounded()) : 0
            var blocks = String(repeating: "█", count: eighths / 8)
            let partial = eighths % 8
            if partial > 0 { blocks.append(Self.partialBlocks[partial - 1]) }
            if blocks.isEmpty && bar.value > 0 { blocks = "▏" }
            out += label + "  " + blocks + " " + bar.text + "\n"
        }
        return out
    }

    /// One eighth to seven eighths of a block.
    private static let partialBlocks: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// The same chart as an SVG image: a row per bar with its label on the left and its value after the bar.
    func renderSVG(title: String) -> String {
        let rowHeight = 22
        let labelWidth = min(300, 12 + 8 * (bars.map { $0.label.count }.max() ?? 0))
        let barRoom = 480
        let valueRoom = 12 + 8 * (bars.map { $0.text.count }.max() ?? 0)
        // Wide enough for the title too (about 7 px a character at 13 px).
        let width = max(labelWidth + barRoom + valueRoom + 20, 20 + 7 * title.count)
        let top = 34
        let height = top + rowHeight * bars.count + 12
        let largest = bars.map(\.value).max() ?? 0
        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
            font-family="sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-weight="bold">\(Self.escape(title))</text>

            """
        for (i, bar) in bars.enumerated() {
            let y = top + i * rowHeight
            let length = largest > 0 && bar.value > 0 ? bar.value / largest * Double(barRoom) : 0
            let barText = String(format: "%.1f", length)
            svg += "<text x=\"\(labelWidth)\" y=\"\(y + 15)\" text-anchor=\"end\">\(Self.escape(bar.label))</text>\n"
            svg += "<rect x=\"\(labelWidth + 8)\" y=\"\(y + 3)\" width=\"\(barText)\" height=\"\(rowHeight - 6)\" fill=\"#4878a8\"/>\n"
            svg += "<text x=\"\(String(format: "%.1f", Double(labelWidth + 14) + length))\" y=\"\(y + 15)\">\(Self.escape(bar.text))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// Text for XML: `&`, `<`, `>` and `"` as entities, control characters dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                if scalar.value < 0x20 { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

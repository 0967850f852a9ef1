import Foundation
import MrshPlan

/// Small helpers for the pages: escaping, numbers, the page frame and its style sheet.
enum HTML {
    /// Escapes text for an element's content or a quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Escapes a path segment of a link.
    static func path(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? ""
    }

    /// 1234567 -> "1.2 MB" (decimal units, as the MB/s of the charts).
    static func bytes(_ value: Int64) -> String {
        let v = Double(value)
        if abs(v) < 1000 { return "\(value) B" }
        let units = ["kB", "MB", "GB", "TB", "PB"]
        var scaled = v / 1000
        var unit = 0
        while abs(scaled) >= 1000 && unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        return fixed(scaled, digits: scaled < 10 ? 2 : 1) + " " + units[unit]
    }

    /// 1234567 -> "1,234,567".
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A number with `digits` decimals, without Foundation's locale.
    static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int64(scaled / scale)
        let fraction = Int64(scaled) - whole * Int64(scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let text = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Seconds as "0.42 s" or "3 min 12 s".
    static func seconds(_ value: Double) -> String {
        if value < 60 { return fixed(value, digits: value < 10 ? 2 : 1) + " s" }
        let total = Int(value.rounded())
        return "\(total / 60) min \(total % 60) s"
    }

    /// Every counter of a `Counters`, as (name, value) rows: read by reflection, so counters added to the
    /// type later (user counters, more built-ins) show without a change here.
    static func counterRows(_ counters: Counters) -> [(String, String)] {
        Mirror(reflecting: counters).children.flatMap { child -> [(String, String)] in
            guard let label = child.label else { return [] }
            return rows(label, child.value)
        }
    }

    private static func rows(_ label: String, _ value: Any) -> [(String, String)] {
        switch value {
        case let number as Int64:
            return [(label, label.lowercased().contains("bytes") ? bytes(number) : count(number))]
        case let number as Int: return [(label, count(Int64(number)))]
        case let number as Double: return [(label, fixed(number, digits: 3))]
        case let table as [String: Int64]:
            return table.sorted { $0.key < $1.key }.map { ("\(label): \($0.key)", count($0.value)) }
        case let table as [String: Int]:
            return table.sorted { $0.key < $1.key }.map { ("\(label): \($0.key)", count(Int64($0.value))) }
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .struct, !mirror.children.isEmpty {
                return mirror.children.flatMap { child in rows(label + "." + (child.label ?? "?"), child.value) }
            }
            return [(label, String(describing: value))]
        }
    }

    /// A whole page: no script, no external resource; `refresh` seconds > 0 reloads it (a running job).
    static func page(title: String, refresh: Int = 0, nav: Bool, body: String) -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        if refresh > 0 { html += "<meta http-equiv=\"refresh\" content=\"\(refresh)\">" }
        html += "<title>\(escape(title))</title><style>\(style)</style></head><body>"
        if nav {
            html += "<nav><b>mrsh</b> <a href=\"/\">jobs</a> <a href=\"/workers\">workers</a> <a href=\"/metrics\">metrics</a></nav>"
        }
        html += body + "</body></html>\n"
        return html
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}
        nav{margin-bottom:12px;padding-bottom:6px;border-bottom:1px solid #ddd}nav a{margin-left:14px}
        h1{font-size:20px;margin:8px 0}h2{font-size:16px;margin:18px 0 6px}h3{font-size:14px;margin:12px 0 4px}
        table{border-collapse:collapse;margin:4px 0 10px}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
        th{background:#f4f4f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .running{color:#1565c0}.succeeded{color:#2e7d32}.failed,.killed{color:#c62828}.discarded{color:#777}
        .note{color:#666;font-size:12px}pre{background:#f7f7f7;padding:6px;margin:2px 0;font-size:12px;white-space:pre-wrap}
        svg{display:block;margin:4px 0 12px}svg text{font:11px system-ui,sans-serif;fill:#333}
        details summary{cursor:pointer;color:#1565c0}
        """
}

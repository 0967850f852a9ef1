import MrshControl
import MrshPlan

/// The paper's Figure 3 for one run, drawn as inline SVG: the data rates over time (input read, shuffle,
/// output written, in MB/s against seconds since the run started) and a task timeline (one bar per attempt).
///
/// Rates come from the attempts' byte counts spread evenly over each finished attempt's duration (the workers
/// report bytes at the end of an attempt, not as they go): input = map attempts' bytes read; shuffle = reduce
/// attempts' bytes fetched (their map-output regions); output = reduce attempts' bytes written, and the map
/// attempts' of a map-only job. Every finished attempt counts, the discarded and killed ones' work too, as the
/// paper's figure shows the work done, not the work kept.
enum Charts {
    struct Series {
        var name: String
        var colour: String
        /// MB/s in each bin.
        var values: [Double]
    }

    static let width = 900.0
    static let left = 60.0
    static let right = 16.0

    /// The three rate series over `bins` bins of `span` seconds in all.
    static func rates(_ run: JobHistory.Run, span: Double, bins: Int) -> [Series] {
        var input = [Double](repeating: 0, count: bins)
        var shuffle = input
        var output = input
        let binWidth = span / Double(bins)
        func spread(_ bytes: Int64, from start: Double, to end: Double, into series: inout [Double]) {
            guard bytes > 0, binWidth > 0 else { return }
            let duration = max(end - start, binWidth / 100)
            let rate = Double(bytes) / duration
            var bin = max(0, min(bins - 1, Int(start / binWidth)))
            while bin < bins {
                let lo = Double(bin) * binWidth
                let hi = lo + binWidth
                let overlap = min(hi, start + duration) - max(lo, start)
                if overlap > 0 { series[bin] += rate * overlap }
                if hi >= start + duration { break }
                bin += 1
            }
        }
        for job in run.jobs {
            let shuffled = job.reduceTasks > 0
            for attempt in job.attempts {
                guard let counters = attempt.counters, let end = attempt.end else { continue }
                switch attempt.phase {
                case .map:
                    spread(counters.bytesIn, from: attempt.start, to: end, into: &input)
                    if !shuffled { spread(counters.bytesOut, from: attempt.start, to: end, into: &output) }
                case .reduce:
                    spread(counters.bytesIn, from: attempt.start, to: end, into: &shuffle)
                    spread(counters.bytesOut, from: attempt.start, to: end, into: &output)
                }
            }
        }
        let toRate = { (bytes: Double) in bytes / binWidth / 1e6 }
        return [
            Series(name: "Input (MB/s)", colour: "#4e79a7", values: input.map(toRate)),
            Series(name: "Shuffle (MB/s)", colour: "#f28e2b", values: shuffle.map(toRate)),
            Series(name: "Output (MB/s)", colour: "#59a14f", values: output.map(toRate)),
        ]
    }

    /// The seconds the charts span: the run's end, or `now` while it runs (at least a tenth of a second).
    static func span(_ run: JobHistory.Run, now: Double) -> Double {
        var end = run.elapsed ?? now
        for job in run.jobs { for a in job.attempts { end = max(end, a.end ?? now) } }
        return max(0.1, end)
    }

    /// One small area chart per series, stacked as in the paper's figure, sharing the time axis.
    static func ratesSVG(_ run: JobHistory.Run, now: Double) -> String {
        let span = span(run, now: now)
        let bins = 120
        let series = rates(run, span: span, bins: bins)
        let chartHeight = 90.0
        let gap = 26.0
        let height = Double(series.count) * (chartHeight + gap) + 24
        var svg = "<svg class=\"rates\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"data rates over time\">"
        let plotWidth = width - left - right
        for (i, s) in series.enumerated() {
            let top = Double(i) * (chartHeight + gap) + 14
            let peak = s.values.max() ?? 0
            let scale = niceCeiling(peak)
            svg += "<text x=\"\(left)\" y=\"\(f(top - 3))\" font-weight=\"600\">\(HTML.escape(s.name))</text>"
            svg += "<text x=\"\(f(left + plotWidth))\" y=\"\(f(top - 3))\" text-anchor=\"end\">peak \(HTML.fixed(peak, digits: 2)) MB/s</text>"
            svg += "<rect x=\"\(left)\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(chartHeight))\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
            // The area: a polygon through the bins' values (a step per bin).
            var points = "\(f(left)),\(f(top + chartHeight))"
            for (bin, value) in s.values.enumerated() {
                let x0 = left + plotWidth * Double(bin) / Double(bins)
                let x1 = left + plotWidth * Double(bin + 1) / Double(bins)
                let y = top + chartHeight - (scale > 0 ? value / scale * chartHeight : 0)
                points += " \(f(x0)),\(f(y)) \(f(x1)),\(f(y))"
            }
            points += " \(f(left + plotWidth)),\(f(top + chartHeight))"
            svg += "<polygon points=\"\(points)\" fill=\"\(s.colour)\" fill-opacity=\"0.75\" stroke=\"\(s.colour)\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(top + 9))\" text-anchor=\"end\">\(axisLabel(scale))</text>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(top + chartHeight))\" text-anchor=\"end\">0</text>"
        }
        svg += timeAxis(span: span, y: height - 22)
        svg += "</svg>"
        return svg
    }

    /// One bar per attempt from its start to its end (or now), maps above reduces, coloured by phase; failed
    /// and killed attempts are drawn red-edged and hatched, backups with a thick dark edge.
    static func timelineSVG(_ run: JobHistory.Run, now: Double) -> String {
        let span = span(run, now: now)
        var rows: [(job: Int, attempt: JobHistory.Attempt)] = []
        for job in run.jobs {
            let ordered = job.attempts.sorted {
                ($0.phase == .map ? 0 : 1, $0.start, $0.task) < ($1.phase == .map ? 0 : 1, $1.start, $1.task)
            }
            rows += ordered.map { (job.id, $0) }
        }
        let rowHeight = max(1.0, min(12.0, 520.0 / Double(max(1, rows.count))))
        let plotHeight = max(24.0, rowHeight * Double(rows.count))
        let top = 22.0
        let height = top + plotHeight + 44
        let plotWidth = width - left - right
        var svg = "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"task timeline\">"
        svg += "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            + "<rect width=\"6\" height=\"6\" fill=\"#f3b0b0\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c62828\" stroke-width=\"2\"/></pattern></defs>"
        svg += "<text x=\"\(left)\" y=\"14\" font-weight=\"600\">Task attempts (\(rows.count))</text>"
        svg += legend(x: left + 170, y: 14)
        svg += "<rect x=\"\(left)\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
        for (i, row) in rows.enumerated() {
            let a = row.attempt
            let x = left + plotWidth * a.start / span
            let end = a.end ?? now
            let w = max(1.0, plotWidth * (end - a.start) / span)
            let y = top + Double(i) * rowHeight
            let h = max(1.0, rowHeight - (rowHeight > 3 ? 1 : 0))
            var fill = a.phase == .map ? "#4e79a7" : "#f28e2b"
            var stroke = "none"
            var strokeWidth = 0.0
            switch a.outcome {
            case .failed, .killed:
                fill = "url(#hatch)"
                stroke = "#c62828"
                strokeWidth = 1
            case .discarded: fill = "#bbbbbb"
            case .running: fill = a.phase == .map ? "#9bb7d4" : "#f7c08f"
            case .won: break
            }
            if a.backup {
                stroke = "#111"
                strokeWidth = 2
            }
            let title = "job \(row.job) \(a.phase.rawValue) \(a.task) attempt \(a.attempt) on \(a.worker): \(a.outcome.label)"
                + (a.backup ? " (backup)" : "") + ", \(HTML.fixed(a.start, digits: 2))-\(HTML.fixed(end, digits: 2)) s"
            svg += "<rect class=\"attempt \(a.phase.rawValue) \(a.outcome.label)\(a.backup ? " backup" : "")\" x=\"\(f(x))\" y=\"\(f(y))\" "
                + "width=\"\(f(w))\" height=\"\(f(h))\" fill=\"\(fill)\""
                + (strokeWidth > 0 ? " stroke=\"\(stroke)\" stroke-width=\"\(f(strokeWidth))\"" : "")
                + "><title>\(HTML.escape(title))</title></rect>"
        }
        svg += timeAxis(span: span, y: top + plotHeight + 4)
        svg += "</svg>"
        return svg
    }

    private static func legend(x: Double, y: Double) -> String {
        let items: [(String, String, String)] = [
            ("map", "#4e79a7", "none"), ("reduce", "#f28e2b", "none"), ("running", "#9bb7d4", "none"),
            ("discarded", "#bbbbbb", "none"), ("failed or killed", "url(#hatch)", "#c62828"), ("backup", "#ffffff", "#111"),
        ]
        var svg = ""
        var cursor = x
        for (name, fill, stroke) in items {
            svg += "<rect x=\"\(f(cursor))\" y=\"\(f(y - 9))\" width=\"12\" height=\"10\" fill=\"\(fill)\""
                + (stroke == "none" ? "" : " stroke=\"\(stroke)\" stroke-width=\"2\"") + "/>"
            svg += "<text x=\"\(f(cursor + 16))\" y=\"\(f(y))\">\(name)</text>"
            cursor += 30 + Double(name.count) * 6.2
        }
        return svg
    }

    /// Ticks at round seconds along the bottom, and the axis title.
    private static func timeAxis(span: Double, y: Double) -> String {
        let plotWidth = width - left - right
        let step = niceStep(span / 8)
        var svg = ""
        var t = 0.0
        while t <= span + step / 1000 {
            let x = left + plotWidth * t / span
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(y - 4))\" x2=\"\(f(x))\" y2=\"\(f(y))\" stroke=\"#888\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(y + 11))\" text-anchor=\"middle\">\(HTML.fixed(t, digits: step < 1 ? (step < 0.1 ? 2 : 1) : 0))</text>"
            t += step
        }
        svg += "<text x=\"\(f(left + plotWidth))\" y=\"\(f(y + 11))\" text-anchor=\"end\" dy=\"12\">seconds</text>"
        return svg
    }

    /// The smallest of 1, 2, 5 times a power of ten at least `value`.
    static func niceStep(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        var power = 1.0
        while power > value { power /= 10 }
        while power * 10 <= value { power *= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where power * m >= value { return power * m }
        return power * 10
    }

    /// A round top for an axis holding `value` (0 stays 0).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 0 }
        return niceStep(value)
    }

    /// An axis value with enough decimals to tell it from 0: 20, 2.5, 0.05, 0.0005.
    static func axisLabel(_ value: Double) -> String {
        var digits = 0
        var probe = value
        while probe > 0 && probe < 1 && digits < 8 {
            probe *= 10
            digits += 1
        }
        return HTML.fixed(value, digits: digits)
    }

    private static func f(_ value: Double) -> String { HTML.fixed(value, digits: 1) }
}

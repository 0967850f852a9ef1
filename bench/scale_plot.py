#!/usr/bin/env python3
"""Draws docs/scale.svg from the JSON lines of `mrsh-sim suite` (bench/sim.sh). Standard library only."""
import json
import math
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def panel(x0, y0, w, h, title, xlabel, series, ylog=False, yunit=""):
    """A line chart: series = [(name, colour, [(x, y)...])], x on a log scale."""
    out = [f'<g transform="translate({x0},{y0})">',
           f'<text x="{w / 2}" y="-12" text-anchor="middle" font-size="13" font-weight="bold">{title}</text>',
           f'<rect x="0" y="0" width="{w}" height="{h}" fill="none" stroke="#999"/>']
    xs = [x for _, _, pts in series for x, _ in pts]
    ys = [y for _, _, pts in series for _, y in pts]
    if not xs:
        return "".join(out) + "</g>"
    lx0, lx1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    if ylog:
        ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
        if ly0 == ly1:
            ly1 += 1
        fy = lambda y: h - (math.log10(y) - ly0) / (ly1 - ly0) * h
        ticks = [10 ** k for k in range(int(ly0), int(ly1) + 1)]
    else:
        top = max(ys) * 1.15 if max(ys) > 0 else 1
        fy = lambda y: h - y / top * h
        step = 10 ** math.floor(math.log10(top / 4)) if top > 0 else 1
        for m in (1, 2, 5, 10):
            if top / (step * m) <= 6:
                step *= m
                break
        ticks = [step * i for i in range(int(top / step) + 1)]
    fx = lambda x: (math.log10(x) - lx0) / (lx1 - lx0) * w
    for t in ticks:
        y = fy(t)
        label = f"{t:g}"
        out.append(f'<line x1="0" x2="{w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="-6" y="{y + 4:.1f}" text-anchor="end" font-size="10">{label}{yunit}</text>')
    for x in sorted(set(xs)):
        out.append(f'<text x="{fx(x):.1f}" y="{h + 14}" text-anchor="middle" font-size="10">{x:g}</text>')
    out.append(f'<text x="{w / 2}" y="{h + 30}" text-anchor="middle" font-size="11">{xlabel}</text>')
    for i, (name, colour, pts) in enumerate(series):
        pts = sorted(pts)
        path = " ".join(f"{'M' if j == 0 else 'L'}{fx(x):.1f},{fy(y):.1f}" for j, (x, y) in enumerate(pts))
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<text x="8" y="{16 + 14 * i}" font-size="11" fill="{colour}">{name}</text>')
    out.append("</g>")
    return "".join(out)


def main():
    runs = load(sys.argv[1])
    growth = [r for r in runs if r["config"]["transport"] == "memory" and r["config"]["killFraction"] == 0
              and r["config"]["mapMilliseconds"] >= 10 and r["config"]["maps"] == 100 * r["config"]["workers"]]
    loop = [r for r in runs if r["config"]["transport"] == "loopback"]
    w = lambda r: r["config"]["workers"]
    panels = [
        ("Scheduler capacity (decisions per busy second)", "workers (M = 100 x workers, R = 2.5 x workers)",
         [("in memory", "#1f77b4", [(w(r), r["decisionsPerBusySecond"]) for r in growth]),
          ("loopback TCP", "#d62728", [(w(r), r["decisionsPerBusySecond"]) for r in loop])], True, ""),
        ("Coordinator memory per task (bytes, resident)", "workers (M = 100 x workers)",
         [("bytes per task", "#2ca02c", [(w(r), r["bytesPerTask"]) for r in growth if r.get("bytesPerTask")])], False, ""),
        ("Job time over ideal (total task time / slots)", "workers",
         [("in memory", "#1f77b4", [(w(r), r["overIdeal"]) for r in growth]),
          ("loopback TCP", "#d62728", [(w(r), r["overIdeal"]) for r in loop])], False, ""),
        ("Map end to reducer knowing its location (ms, p99)", "workers",
         [("in memory", "#1f77b4", [(w(r), max(r["locationLatencyP99"] * 1000, 0.1)) for r in growth]),
          ("loopback TCP", "#d62728", [(w(r), max(r["locationLatencyP99"] * 1000, 0.1)) for r in loop])], False, ""),
    ]
    pw, ph = 360, 200
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * pw + 160}" height="{2 * ph + 190}" '
           'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>',
           '<text x="20" y="22" font-size="15" font-weight="bold">mrsh coordinator at scale '
           '(bench/sim.sh: real JobScheduler, simulated workers)</text>']
    for i, (title, xlabel, series, ylog, unit) in enumerate(panels):
        x0 = 70 + (i % 2) * (pw + 70)
        y0 = 60 + (i // 2) * (ph + 80)
        svg.append(panel(x0, y0, pw, ph, title, xlabel, series, ylog, unit))
    svg.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()

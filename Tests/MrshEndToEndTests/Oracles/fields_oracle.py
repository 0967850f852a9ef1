#!/usr/bin/env python3
"""Independent oracle for mrsh's fields and expressions (FieldsOracleTests).

Usage: fields_oracle.py DIR SEED
Writes generated data into DIR (TAB-separated access records, the same records as CSV with quoted fields
and as JSON Lines) and DIR/cases.json: a list of {name, script, args, expected}, where `expected` is
computed here, in plain Python, from the generated records -- never from mrsh.

Semantics implemented (see README "The language"): a field counts as a number when all of it parses as
one; comparisons are numeric when both sides are numbers, else by bytes; aggregates skip empty values
(count counts rows); integers print plainly, decimals in the shortest repr, whole decimals as integers;
`sort by`: numbers first (numerically), then text by bytes; ties keep input order; `top` descends.
"""
import csv, functools, io, json, random, re, sys

NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

def number(text):
    if not NUM.match(text):
        return None
    if re.match(r"^[+-]?\d+$", text):
        v = int(text)
        return v if -2**63 <= v < 2**63 else float(text)
    return float(text)

def fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v == int(v) and abs(v) < 9e15:
            return str(int(v))
        return repr(v)
    return v

def b(s):
    return s.encode("utf-8")

def lines(rows):
    return "".join("\t".join(fmt(x) for x in r) + "\n" for r in rows)

def key_order(k):
    """mrsh's order of group keys in a reduce's output: the bytes of the key fields joined by TAB."""
    return b("\t".join(k))

def sort_key(values):
    """The order of `sort by` / `top`: per value, numbers first (numerically), then text by bytes."""
    out = []
    for v in values:
        n = number(v)
        out.append((0, n, b"") if n is not None else (1, 0, b(v)))
    return out

def compare_values(x, y, descending):
    """One key of `sort by` / `top`: numbers first (numerically), then text by bytes; desc reverses it all."""
    nx, ny = number(x), number(y)
    if nx is not None and ny is not None:
        c = (nx > ny) - (nx < ny)
    elif nx is not None:
        c = -1
    elif ny is not None:
        c = 1
    else:
        c = (b(x) > b(y)) - (b(x) < b(y))
    return -c if descending else c

def ordered(items, keys):
    """`items` (index, record) sorted by `keys` [(field index, descending)], ties by input order."""
    def cmp(a, b_):
        for field, desc in keys:
            c = compare_values(a[1][field], b_[1][field], desc)
            if c:
                return c
        return (a[0] > b_[0]) - (a[0] < b_[0])
    return sorted(items, key=functools.cmp_to_key(cmp))

def main():
    directory, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    hosts = ["alpha", "beta", "gamma", "δέλτα", "例え", "e-f", "Zeta", "eta"]
    paths = ["/", "/index.html", "/api/v1/jobs", "/api/v1/jobs/42", "/img/a.png", "/caf\u00e9", "/x"]
    statuses = ["200", "200", "200", "304", "404", "500", "503", "-"]
    records = []
    for i in range(3000):
        host = rng.choice(hosts)
        path = rng.choice(paths)
        status = rng.choice(statuses)
        r = rng.random()
        if r < 0.05:
            size = ""
        elif r < 0.08:
            size = str(rng.randint(-50, -1))
        elif r < 0.10:
            # Fractions a double holds exactly, so that sums do not depend on the order of additions.
            size = "%d.%s" % (rng.randint(0, 999), rng.choice(["5", "25", "75"]))
        else:
            size = str(rng.randint(0, 100000))
        records.append((host, path, status, size))
    with open(f"{directory}/access.tsv", "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write("\t".join(r) + "\n")
    # The same records with a quoted agent field: commas, doubled quotes, a line break inside quotes.
    agents = ['Mozilla/5.0 (X11, Linux)', 'say "hi", then go', 'two\nlines', 'plain', 'tab\there', '']
    with open(f"{directory}/access.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if seed % 2 else "\n")
        w.writerow(["host", "path", "status", "bytes", "agent"])
        for i, r in enumerate(records):
            w.writerow(list(r) + [agents[i % len(agents)]])
    with open(f"{directory}/access.jsonl", "w", encoding="utf-8") as f:
        for i, (host, path, status, size) in enumerate(records):
            o = {"req": {"host": host, "path": path}, "status": int(status) if status != "-" else None}
            if size != "":
                n = number(size)
                o["bytes"] = n
            f.write(json.dumps(o, ensure_ascii=(i % 2 == 0)) + "\n")

    named = 'read "access.tsv" | split "\\t" as host, path, status, bytes'
    cases = []
    def case(name, script, rows, args=()):
        cases.append({"name": name, "script": script, "args": list(args), "expected": lines(rows)})

    # 1. where with numeric and text comparisons, in input order.
    def cmp_ge(text, n):
        v = number(text)
        return v >= n if v is not None else b(text) >= b(str(n))
    rows = [r for r in records if cmp_ge(r[2], 500) and r[1].startswith("/api")]
    case("where_numeric_and_text", named + ' | where status >= 500 and startswith(path, "/api")', rows)

    # 2. select with functions and arithmetic (bytes that are numbers only).
    sel = []
    for host, path, status, size in records:
        n = number(size)
        if n is None:
            continue
        doubled = n * 2 + 1
        sel.append((host.upper(), len(path), doubled, "big" if n > 50000 else "small"))
    case("select_functions",
         named + ' | where bytes != "" | select upper(host), len(path), bytes * 2 + 1, if(bytes > 50000, "big", "small")',
         sel)

    # 3. reduce several aggregates by two keys (combinable): count, sum, min, max.
    groups = {}
    for host, path, status, size in records:
        g = groups.setdefault((status, host), [0, None, None, None])
        g[0] += 1
        n = number(size)
        if n is not None:
            g[1] = n if g[1] is None else g[1] + n
            g[2] = n if g[2] is None else min(g[2], n)
            g[3] = n if g[3] is None else max(g[3], n)
    rows = []
    for k in sorted(groups, key=key_order):
        c, s, lo, hi = groups[k]
        rows.append(list(k) + [c] + [("" if v is None else v) for v in (s, lo, hi)])
    case("reduce_by_two_keys", named + " | reduce count, sum(bytes), min(bytes), max(bytes) by status, host", rows)

    # 4. avg, ndistinct, distinct, collect-free (exact without a combiner).
    groups = {}
    for host, path, status, size in records:
        g = groups.setdefault(path, [0, 0, set(), set()])
        n = number(size)
        if n is not None:
            g[0] += n
            g[1] += 1
        g[2].add(host)
        if status != "":
            g[3].add(status)
    rows = []
    for k in sorted(groups, key=lambda p: b(p)):
        s, c, hs, st = groups[k]
        rows.append([k, (s / c) if c else "", len(hs), ",".join(sorted(st, key=b))])
    case("reduce_avg_ndistinct_distinct", named + " | reduce avg(bytes), ndistinct(host), distinct(status) by path", rows)

    # 5. reduce count by path, then the top 3 by count (ties by path).
    counts = {}
    for r in records:
        counts[r[1]] = counts.get(r[1], 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], b(kv[0])))[:3]
    case("top_overall", named + " | reduce count by path | top 3 by count desc, path asc", [list(t) for t in top])

    # 6. top 2 records per status by bytes (descending: text before numbers), groups ascending, ties input order.
    per = {}
    for i, r in enumerate(records):
        per.setdefault(r[2], []).append((i, r))
    rows = []
    for st in [k for _, k in ordered([(0, (k,)) for k in per], [(0, False)])]:
        rows.extend(list(r) for _, r in ordered(per[st[0]], [(3, True)])[:2])
    case("top_per_group", named + " | top 2 by bytes per status", rows)

    # 7. sort by two keys: status ascending (numbers first), then bytes descending; take 20.
    rows = [list(r) for _, r in ordered(list(enumerate(records)), [(2, False), (3, True)])[:20]]
    case("sort_by_two_keys", named + " | sort by status, bytes desc | take 20", rows)

    # 8. CSV with a header, quoted fields, line breaks inside quotes; a tiny split size puts boundaries inside.
    groups = {}
    with open(f"{directory}/access.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        agents_seen = []
        for row in reader:
            host, path, status, size, agent = row
            g = groups.setdefault(status, [0, 0])
            g[0] += 1
            n = number(size)
            if n is not None:
                g[1] += n
            agents_seen.append(agent.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))
    rows = [[k, c, s] for k, (c, s) in sorted(groups.items(), key=lambda kv: b(kv[0]))]
    case("csv_header_group_by", 'read "access.csv" | parse csv header | reduce count, sum(bytes) by status', rows,
         args=["--split-size", "4K"])
    case("csv_quoted_fields_in_order", 'read "access.csv" | parse csv header | select agent',
         [[a] for a in agents_seen], args=["--split-size", "4K"])

    # 9. JSON Lines: nested paths, null and missing values.
    groups = {}
    for host, path, status, size in records:
        st = status if status != "-" else ""
        g = groups.setdefault(st, [0, 0])
        g[0] += 1
        n = number(size)
        if n is not None:
            g[1] += n
    rows = [[k, c, s] for k, (c, s) in sorted(groups.items(), key=lambda kv: b(kv[0]))]
    case("json_group_by", 'read "access.jsonl" | parse json "status", "bytes" | reduce count, sum(bytes) by status', rows)
    rows = [[h, p] for h, p, st, sz in records if p.startswith("/api")]
    case("json_nested_paths", 'read "access.jsonl" | parse json "req.host" as host, "req.path" | where path ~ /^\\/api/ | select host, path', rows)

    # 10. Exact 128-bit integer sums, whatever the order.
    big = 2**63 - 1
    with open(f"{directory}/big.tsv", "w") as f:
        vals = [big, big, -big, big, 5, -(2**63)]
        rng.shuffle(vals)
        for v in vals:
            f.write(f"k\t{v}\n")
    case("sum_past_64_bits", 'read "big.tsv" | split "\\t" as k, v | reduce sum(v), count by k',
         [["k", sum(vals), len(vals)]], args=["--split-size", "4K"])

    with open(f"{directory}/cases.json", "w") as f:
        json.dump(cases, f, ensure_ascii=False)

main()

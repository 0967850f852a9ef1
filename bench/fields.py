#!/usr/bin/env python3
"""The field-level language next to DuckDB and mawk: four access-log queries on the same records.

  python3 bench/fields.py DATA_DIR [--size 1GiB] [--tools mrsh,duckdb,mawk] [--tasks t1,t2,t3,t4]
                                   [--runs 3] [--mrsh .build/release/mrsh] [--json FILE] [--no-check]

1. Data: one deterministic stream of access-log records (from --seed) written three ways, together about
   --size bytes, cached in DATA_DIR/fields-<size>/:
     access.log    ip ts method path status bytes          (one space between fields, none inside one)
     access.csv    ip,ts,method,path,status,bytes,agent    (header line; agent always quoted, with commas
                                                            and doubled quotes: "Mozilla/5.0 (X11, Linux) ""like"" Gecko")
     access.jsonl  {"ip":..,"ts":..,"req":{"method":..,"path":..},"status":N,"bytes":N,"agent":".."}
   Paths are Zipf-distributed over 4,000 URLs, statuses weighted 200/301/304/404/500/502/503, bytes
   0..200000 (always a number; 0 for 304).  meta.json beside them holds the reference answers, computed
   from the records as they were generated (not from any file or tool).
2. Correctness: each tool runs each task on the 10 MiB set (DATA_DIR/fields-10MiB, the first records of
   the same stream); its standard output (only standard output: mrsh's job summary goes to standard
   error) is compared with the reference, numbers as numbers, lines in any order (top 10: in order, any
   order among equal counts).  A disagreement is printed and the row says FAIL (it is still timed).
3. Timing: the files are read once (page cache warm), then per (task, tool) --warmup untimed runs and
   --runs timed runs of the whole command as a fresh process; median wall, MB/s of the task's file, the
   ratio mrsh / tool, and MB/s / the C limit's MB/s: limit_wc (the C word count) on the text set of
   bench/gen_data.py when DATA_DIR has it (DATA_DIR/text or DATA_DIR/<size>/text, or --text DIR), else
   limit_wc -r (read only) on access.log.  The issue's goal: mrsh within 2x of the word-count limit's
   bytes per second, i.e. MB/s / limit >= 0.5.

Standard library only, plus the duckdb module for DuckDB's rows (skipped with a note when missing).
"""
import argparse
import collections
import importlib.util
import itertools
import json
import multiprocessing as mp
import os
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from gen_data import parse_size, synthetic_vocab  # noqa: E402
from bench import build_c, clean, files_of, machine_info, mrsh_string, run_once, size_label, wait_idle, warm  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
GEN_VERSION = 1
DEFAULT_SEED = "mrsh-fields-1"
CHUNK = 16384          # records per generator task (each chunk has its own seeded RNG)
SAMPLE_SIZE = 10 * MiB
CSV_HEADER = "ip,ts,method,path,status,bytes,agent\n"
FILES = ("access.log", "access.csv", "access.jsonl")

# ------------------------------------------------------------------ tasks and commands
TASKS = {
    "t1": ("access.log", "where status >= 500 | reduce count, sum(bytes) by status"),
    "t2": ("access.log", "reduce count by path | top 10 by count desc"),
    "t3": ("access.csv", "parse csv header | reduce count, sum(bytes) by status"),
    "t4": ("access.jsonl", 'parse json "status", "bytes" | reduce count, sum(bytes) by status'),
}
SPLIT = 'split " " as ip, ts, method, path, status, bytes'
MRSH = {
    "t1": 'read FILE | ' + SPLIT + ' | where status >= 500 | reduce count, sum(bytes) by status',
    "t2": 'read FILE | ' + SPLIT + ' | reduce count by path | top 10 by count desc',
    "t3": 'read FILE | parse csv header | reduce count, sum(bytes) by status',
    "t4": 'read FILE | parse json "status", "bytes" | reduce count, sum(bytes) by status',
}
# mawk prints the sums with %.0f: print would use OFMT (%.6g) for values past its integer range
_END3 = ' END { for (k in c) printf "%s\\t%d\\t%.0f\\n", k, c[k], s[k] }'
MAWK = {
    "t1": "mawk '$5 >= 500 { c[$5]++; s[$5] += $6 }" + _END3 + "' FILE",
    "t2": ("mawk '{ c[$4]++ } END { for (k in c) printf \"%s\\t%d\\n\", k, c[k] }' FILE"
           " | LC_ALL=C sort -t$'\\t' -k2,2nr | head -n 10"),
    # not a CSV parser: correct here only because the one quoted column (agent) is the last one
    "t3": "mawk -F, 'NR > 1 { c[$5]++; s[$5] += $6 }" + _END3 + "' FILE",
    # not a JSON parser: regex extraction of the two keys (fine for this generator's fixed key set)
    "t4": ("mawk '{ match($0, /\"status\":[0-9]+/); st = substr($0, RSTART + 9, RLENGTH - 9);"
           " match($0, /\"bytes\":[0-9]+/); c[st]++; s[st] += substr($0, RSTART + 8, RLENGTH - 8) }"
           + _END3 + "' FILE"),
}
DUCKDB = "PY " + shlex.quote(os.path.join(HERE, "peers", "duckdb_fields.py")) + " TASK FILE --threads 2"
TOOLS = ("mrsh", "duckdb", "mawk")
NOTES = [
    "mrsh: `mrsh --workers W --format tsv -e 'read \"FILE\" | STAGES'` (W = --workers, default 2); "
    "t1 and t2 start with `" + SPLIT + "`. Only standard output is the answer.",
    "duckdb: `bench/peers/duckdb_fields.py` in a fresh Python process (start-up included), `SET threads=2`, "
    "types given: `read_csv(delim=' ', header=false, columns={...})` for access.log, `read_csv(header=true, "
    "quote='\"', escape='\"')` for access.csv, `read_json(format='newline_delimited', columns={status, bytes})`; "
    "t2 `ORDER BY count DESC, path LIMIT 10`.",
    "mawk: one thread. t2 pipes the counts into `LC_ALL=C sort -t$'\\t' -k2,2nr | head -n 10`. "
    "t3 is `mawk -F,`, which does not parse quoted CSV: its answer is right only because the quoted `agent` "
    "(with commas and doubled quotes) is the last column, so fields 1-6 are intact. "
    "t4 extracts `\"status\":N` and `\"bytes\":N` with `match()`: a regex, not a JSON parser.",
]


def tool_command(tool, task, path, mrsh, workers, mrsh_args):
    if tool == "mrsh":
        stmt = MRSH[task].replace("FILE", mrsh_string(path))
        return "%s --workers %d --format tsv %s-e %s" % (shlex.quote(mrsh), workers,
                                                         mrsh_args + " " if mrsh_args else "", shlex.quote(stmt))
    if tool == "duckdb":
        return DUCKDB.replace("PY", shlex.quote(sys.executable)).replace("TASK", task).replace("FILE", shlex.quote(path))
    return MAWK[task].replace("FILE", shlex.quote(path))


# ------------------------------------------------------------------ data
_S = {}


def _sets(seed):
    """The fixed sets every chunk draws from (seeded by seed only)."""
    if _S.get("seed") == seed:
        return _S
    srng = random.Random("%s-fields-sets" % seed)
    ips = ["%d.%d.%d.%d" % (srng.randint(1, 223), srng.randint(0, 255), srng.randint(0, 255), srng.randint(1, 254))
           for _ in range(50000)]
    words = synthetic_vocab(3000)
    urls, seen = [], set()
    while len(urls) < 4000:
        k = srng.random()
        a, b = srng.choice(words), srng.choice(words)
        if k < 0.30:
            u = "/%s/%s.html" % (a, b)
        elif k < 0.50:
            u = "/api/v1/%s?id=%d" % (a, srng.randint(1, 99999))
        elif k < 0.70:
            u = "/static/%s/%s.%s" % (a, b, srng.choice(("css", "js", "png", "jpg", "svg")))
        elif k < 0.85:
            u = "/%s/%s/%s" % (srng.choice(("blog", "docs", "shop", "news")), a, b)
        elif k < 0.90:
            u = "/search?q=%s+%s" % (a, b)
        else:
            u = "/%s" % a
        if u not in seen:
            seen.add(u)
            urls.append(u)
    srng.shuffle(urls)  # rank order unrelated to the URL's shape
    agents = (["Mozilla/5.0 (X11, Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0" % (v, v) for v in range(110, 125)]
              + ["Mozilla/5.0 (Windows NT 10.0, Win64, x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 "
                 "Safari/537.36" % v for v in range(110, 125)]
              + ['Mozilla/5.0 (X11, Linux) "like" Gecko',
                 'Mozilla/5.0 (compatible; "Googlebot", 2.1; +http://www.google.com/bot.html)',
                 '"quoted" agent, with "two" quoted words, and commas',
                 "python-requests/2.31.0", "Wget/1.21.3"]
              + ["curl/7.%d.0" % v for v in range(80, 90)])
    for s in urls + ips:
        assert not any(c in s for c in ' ,"\\\t'), s
    cum = lambda n, s, q: list(itertools.accumulate(1.0 / (r + q) ** s for r in range(1, n + 1)))  # noqa: E731
    _S.clear()
    _S.update({
        "seed": seed, "ips": ips, "ipcum": cum(len(ips), 1.1, 1.0), "urls": urls, "urlcum": cum(len(urls), 1.0, 3.0),
        "methods": ["GET", "POST", "HEAD", "PUT", "DELETE"], "mw": [85, 10, 3, 1, 1],
        "statuses": [200, 301, 304, 404, 500, 502, 503], "sw": [70, 5, 10, 8, 3, 2, 2],
        "csv_agents": ['"' + a.replace('"', '""') + '"' for a in agents],
        "json_agents": [json.dumps(a) for a in agents],
    })
    return _S


def gen_chunk(args):
    """Records index*CHUNK .. index*CHUNK + (limit or CHUNK) - 1 in the three formats, each record's total
    size, and the reference aggregates of exactly these records."""
    seed, index, limit = args
    S = _sets(seed)
    rng = random.Random("%s-fields-chunk-%d" % (seed, index))
    # whole batches are drawn whatever limit is, so a limited chunk is a prefix of the full one
    ips = rng.choices(S["ips"], cum_weights=S["ipcum"], k=CHUNK)
    paths = rng.choices(S["urls"], cum_weights=S["urlcum"], k=CHUNK)
    methods = rng.choices(S["methods"], weights=S["mw"], k=CHUNK)
    statuses = rng.choices(S["statuses"], weights=S["sw"], k=CHUNK)
    nbytes = rng.choices(range(200001), k=CHUNK)
    agent_i = rng.choices(range(len(S["csv_agents"])), k=CHUNK)
    csv_agents, json_agents = S["csv_agents"], S["json_agents"]
    n = CHUNK if limit is None else limit
    log, csv, js, sizes = [], [], [], []
    by_status = {}
    by_path = collections.Counter()
    first = index * CHUNK
    last_sec, ts = None, None
    for i in range(n):
        sec = 1717200000 + (first + i) // 4  # from 2024-06-01T00:00:00Z, 4 requests a second
        if sec != last_sec:
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))
            last_sec = sec
        ip, path, method, status = ips[i], paths[i], methods[i], statuses[i]
        b = 0 if status == 304 else nbytes[i]
        a = agent_i[i]
        l1 = "%s %s %s %s %d %d\n" % (ip, ts, method, path, status, b)
        l2 = "%s,%s,%s,%s,%d,%d,%s\n" % (ip, ts, method, path, status, b, csv_agents[a])
        l3 = ('{"ip":"%s","ts":"%s","req":{"method":"%s","path":"%s"},"status":%d,"bytes":%d,"agent":%s}\n'
              % (ip, ts, method, path, status, b, json_agents[a]))
        log.append(l1)
        csv.append(l2)
        js.append(l3)
        sizes.append(len(l1) + len(l2) + len(l3))
        cs = by_status.get(status)
        if cs is None:
            by_status[status] = [1, b]
        else:
            cs[0] += 1
            cs[1] += b
        by_path[path] += 1
    return "".join(log), "".join(csv), "".join(js), sizes, by_status, by_path


def set_dir(data, size, seed):
    return os.path.join(data, "fields-%s%s" % (size_label(size), "" if seed == DEFAULT_SEED else "-" + seed))


def ensure_set(data, size, seed, jobs):
    """The set's directory, generated when missing; a set made otherwise (another version or seed) is refused."""
    d = set_dir(data, size, seed)
    meta = os.path.join(d, "meta.json")
    if os.path.isdir(d):
        try:
            with open(meta) as f:
                m = json.load(f)
            ok = (m["version"], m["seed"], m["size"]) == (GEN_VERSION, seed, size) and all(
                os.path.getsize(os.path.join(d, n)) == m["files"][n] for n in FILES)
        except (OSError, ValueError, KeyError):
            ok = False
        if not ok:
            sys.exit("fields: %s is not a complete set of this generator (version %d, seed %s, size %d): "
                     "remove it or use another DATA_DIR" % (d, GEN_VERSION, seed, size))
        return d, m
    return d, generate(d, size, seed, jobs)


def generate(d, size, seed, jobs):
    print("== generating %s (%s total, seed %s)" % (d, size_label(size), seed), flush=True)
    t0 = time.perf_counter()
    tmp = d + ".tmp"
    clean(tmp)
    os.makedirs(tmp)
    outs = [open(os.path.join(tmp, n), "w", encoding="ascii", newline="") for n in FILES]
    outs[1].write(CSV_HEADER)
    total, records = len(CSV_HEADER), 0
    by_status, by_path = {}, collections.Counter()
    done = False
    index = 0
    with mp.Pool(jobs) as pool:
        while not done:
            batch = pool.map(gen_chunk, [(seed, index + j, None) for j in range(2 * jobs)])
            for res in batch:
                sizes = res[3]
                if total + sum(sizes) > size:
                    room, k = size - total, 0
                    for s in sizes:
                        if room < s:
                            break
                        room -= s
                        k += 1
                    res = gen_chunk((seed, index, k))
                    done = True
                for f, text in zip(outs, res[:3]):
                    f.write(text)
                total += sum(res[3])
                records += len(res[3])
                for st, (c, s) in res[4].items():
                    cur = by_status.setdefault(st, [0, 0])
                    cur[0] += c
                    cur[1] += s
                by_path.update(res[5])
                index += 1
                if done:
                    break
    for f in outs:
        f.close()
    m = {"version": GEN_VERSION, "seed": seed, "size": size, "records": records,
         "files": {n: os.path.getsize(os.path.join(tmp, n)) for n in FILES},
         "reference": {"by_status": {str(k): v for k, v in sorted(by_status.items())},
                       "by_path": dict(sorted(by_path.items()))}}
    assert sum(m["files"].values()) == total
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump(m, f, indent=1)
    os.rename(tmp, d)
    print("   %d records, %s in %.1f s" % (records, ", ".join("%s %d bytes" % kv for kv in m["files"].items()),
                                          time.perf_counter() - t0), flush=True)
    return m


# ------------------------------------------------------------------ correctness
def num(s):
    s = s.strip()
    try:
        return int(s)
    except ValueError:
        f = float(s)  # ValueError for a non-number
        return int(f) if f.is_integer() else f


def parse_rows(stdout, numeric_from):
    """Rows of TAB-separated fields; fields numeric_from.. as numbers.  A first line whose numeric fields
    are not numbers is taken as a header and skipped (returned as note)."""
    rows, note = [], ""
    lines = [l for l in stdout.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        f = line.rstrip("\r").split("\t")
        try:
            vals = [num(x) for x in f[numeric_from:]]
        except ValueError:
            if i == 0 and rows == []:
                note = "header line skipped: %r" % line
                continue
            raise ValueError("not a number in line %r" % line)
        rows.append(tuple(f[:numeric_from]) + tuple(vals))
    return rows, note


def reference(meta, task):
    ref = meta["reference"]
    if task == "t2":
        return ref["by_path"]
    groups = {int(k): tuple(v) for k, v in ref["by_status"].items()}
    if task == "t1":
        groups = {k: v for k, v in groups.items() if k >= 500}
    return groups


def check(task, stdout, ref):
    """(ok, description) of a tool's standard output against the reference."""
    if task == "t2":
        rows, note = parse_rows(stdout, 1)
        want = sorted(ref.values(), reverse=True)[:10]
        got_counts = [r[1] for r in rows]
        errs = []
        if any(len(r) != 2 for r in rows):
            errs.append("rows of %s fields (want path, count)" % sorted({len(r) for r in rows}))
        if got_counts != want:
            errs.append("counts %s, reference %s" % (got_counts, want))
        wrong = [(r[0], r[1], ref.get(r[0])) for r in rows if len(r) == 2 and ref.get(r[0]) != r[1]]
        if wrong:
            errs.append("%d paths with another count, e.g. %s: %s (reference %s)" % ((len(wrong),) + wrong[0]))
        if len({r[0] for r in rows}) != len(rows):
            errs.append("a path twice")
        desc = "top %d: %s" % (len(rows), ", ".join("%s %s" % (r[0], r[1]) for r in rows[:3])) + (", ..." if len(rows) > 3 else "")
        if note:
            desc += "; " + note
        return not errs, "; ".join(errs) if errs else desc
    rows, note = parse_rows(stdout, 1)
    got = {}
    errs = []
    for r in rows:
        if len(r) != 3:
            errs.append("a row of %d fields (want status, count, sum): %r" % (len(r), r))
            continue
        try:
            k = num(r[0])
        except ValueError:
            k = r[0]
        if k in got:
            errs.append("status %s twice" % k)
        got[k] = (r[1], r[2])
    if got != ref:
        diff = sorted((k for k in set(got) | set(ref) if got.get(k) != ref.get(k)), key=str)
        errs.append("%d of %d groups differ, e.g. %s: %s (reference %s)" % (
            len(diff), len(ref), diff[0], got.get(diff[0]), ref.get(diff[0])))
    desc = "%d groups, %d rows counted" % (len(got), sum(v[0] for v in got.values() if isinstance(v[0], int)))
    if note:
        desc += "; " + note
    return not errs, "; ".join(errs) if errs else desc


# ------------------------------------------------------------------ main
def find_text_set(data, size, given):
    for d in ([given] if given else [os.path.join(data, "text"), os.path.join(data, size_label(size), "text")]):
        if d and files_of(d):
            return os.path.abspath(d)
    if given:
        sys.exit("fields: no files in --text %s" % given)
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--size", type=parse_size, default=GiB,
                    help="the three files together (default 1GiB; e.g. 64MiB for a quick run)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma list of mrsh, duckdb, mawk")
    ap.add_argument("--tasks", default="t1,t2,t3,t4", help="comma list of t1, t2, t3, t4")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per row (the median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before them")
    ap.add_argument("--mrsh", default=os.path.join(REPO, ".build", "release", "mrsh"),
                    help="the mrsh binary (default .build/release/mrsh at the repository root; never built here)")
    ap.add_argument("--workers", type=int, default=2, help="mrsh --workers (default 2)")
    ap.add_argument("--mrsh-args", default="", help="extra mrsh options, e.g. '--memory 256M'")
    ap.add_argument("--text", default="", help="the text set for the C word-count limit (default DATA_DIR/text "
                                               "or DATA_DIR/<size>/text when present)")
    ap.add_argument("--no-limit", action="store_true", help="no C limit rows")
    ap.add_argument("--json", default="", help="results file (default DATA_DIR/_bench/fields.json; "
                                               "the table goes beside it as fields.md)")
    ap.add_argument("--no-check", action="store_true", help="skip the correctness check on the 10 MiB set")
    ap.add_argument("--check-only", action="store_true", help="only the correctness check")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--idle-wait", type=float, default=0,
                    help="before each timed run wait up to this many seconds for an idle machine (default 0)")
    ap.add_argument("--idle-threshold", type=float, default=0.15)
    ap.add_argument("--seed", default=DEFAULT_SEED)
    ap.add_argument("--cflags", default=os.environ.get("CFLAGS", "-O3 -march=native -pthread"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for data generation")
    a = ap.parse_args()

    tools = [t for t in filter(None, a.tools.split(","))]
    tasks = [t for t in filter(None, a.tasks.split(","))]
    for t in tools:
        if t not in TOOLS:
            ap.error("unknown tool %r (mrsh, duckdb, mawk)" % t)
    for t in tasks:
        if t not in TASKS:
            ap.error("unknown task %r (t1, t2, t3, t4)" % t)
    if a.runs < 1 or a.warmup < 0 or a.workers < 1:
        ap.error("--runs and --workers must be at least 1, --warmup at least 0")
    if any(c in a.seed for c in "/\\\0"):
        ap.error("--seed may not contain '/'")

    data = os.path.abspath(a.data_dir)
    if '"' in data or "\\" in data:
        sys.exit("fields: DATA_DIR may not contain '\"' or '\\'")
    os.makedirs(data, exist_ok=True)
    work = os.path.join(data, "_bench")
    scratch = os.path.join(work, "scratch")
    json_path = os.path.abspath(a.json or os.path.join(work, "fields.json"))
    os.makedirs(scratch, exist_ok=True)

    skipped = []
    mrsh = ""
    if "mrsh" in tools:
        mrsh = os.path.abspath(a.mrsh)
        if not os.access(mrsh, os.X_OK):
            skipped.append("mrsh: no binary at %s (build it with `swift build -c release --product mrsh`)" % mrsh)
            tools.remove("mrsh")
            mrsh = ""
    if "duckdb" in tools and importlib.util.find_spec("duckdb") is None:
        skipped.append("duckdb: the Python module is not installed (`pip install duckdb`)")
        tools.remove("duckdb")
    if "mawk" in tools and not shutil.which("mawk"):
        skipped.append("mawk: not on PATH (`apt-get install mawk`)")
        tools.remove("mawk")
    for s in skipped:
        print("== skipped: " + s, flush=True)

    dset, meta = ensure_set(data, a.size, a.seed, a.jobs)
    sample = None
    if not a.no_check:
        sample = (dset, meta) if a.size == SAMPLE_SIZE else ensure_set(data, SAMPLE_SIZE, a.seed, a.jobs)
    bindir = os.path.join(HERE, "build")
    text = "" if a.no_limit else find_text_set(data, a.size, a.text)
    if not a.no_limit:
        build_c(bindir, a.cflags)

    info = machine_info(mrsh, a.cflags)
    if importlib.util.find_spec("duckdb") is not None:
        info["duckdb"] = subprocess.run([sys.executable, "-c", "import duckdb; print(duckdb.__version__)"],
                                        capture_output=True, text=True).stdout.strip()
    print("== machine")
    for k, v in info.items():
        print("  %-12s %s" % (k + ":", v))
    sys.stdout.flush()

    def path_of(d, task):
        return os.path.join(d, TASKS[task][0])

    # correctness on the 10 MiB set
    status = {}
    if sample is not None:
        sdir, smeta = sample
        warm(sdir)
        print("== correctness on %s (%d records; reference computed from the generated records)" % (
            sdir, smeta["records"]), flush=True)
        for task in tasks:
            ref = reference(smeta, task)
            for tool in tools:
                cmd = tool_command(tool, task, path_of(sdir, task), mrsh, a.workers, a.mrsh_args)
                t0 = time.perf_counter()
                try:
                    p = subprocess.run(["bash", "-c", cmd], stdin=subprocess.DEVNULL, capture_output=True,
                                       text=True, timeout=a.timeout, start_new_session=True)
                    rc, out, err = p.returncode, p.stdout, p.stderr
                except subprocess.TimeoutExpired as e:
                    rc, out, err = "timeout", e.stdout or "", e.stderr or ""
                    out = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
                    err = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
                wall = time.perf_counter() - t0
                try:
                    ok, desc = check(task, out, ref)
                except Exception as e:  # noqa: BLE001  (unreadable output is a failed check)
                    ok, desc = False, "unreadable output (%s): %r" % (e, out[:300])
                if rc != 0:
                    ok = False
                    desc += "; rc=%s: %s" % (rc, err.strip()[-400:])
                status[(task, tool)] = "OK" if ok else "FAIL"
                print("  %-3s %-7s %s  %s (%.2f s)" % (task, tool, "OK  " if ok else "FAIL", desc, wall), flush=True)
                if not ok:
                    print("      command: %s" % cmd, flush=True)
    if a.check_only:
        return 1 if "FAIL" in status.values() else 0

    # timings
    for n in FILES:
        warm_file(os.path.join(dset, n))
    if text:
        warm(text)
    results = []
    report = {"info": info, "args": vars(a), "set": dset, "records": meta["records"], "files": meta["files"],
              "skipped": skipped, "results": results}

    def save(table=None):
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump(report, f, indent=1)
        if table is not None:
            with open(os.path.splitext(json_path)[0] + ".md", "w") as f:
                f.write(table + "\n")

    rows = []
    if not a.no_limit:
        log = os.path.join(dset, "access.log")
        rows.append(("limit", "limit-read", "%s/limit_wc -r -t 2 %s" % (shlex.quote(bindir), shlex.quote(log)),
                     os.path.relpath(log, data), os.path.getsize(log), None))
        if text:
            out = os.path.join(scratch, "fields-limit-c")
            rows.append(("limit", "limit-c", "%s/limit_wc -t 2 -o %s %s/*" % (
                shlex.quote(bindir), shlex.quote(out), shlex.quote(text)),
                rel_or_abs(text, data) + "/*", sum(os.path.getsize(f) for f in files_of(text)), out))
    for task in tasks:
        p = path_of(dset, task)
        for tool in tools:
            rows.append((task, tool, tool_command(tool, task, p, mrsh, a.workers, a.mrsh_args),
                         os.path.relpath(p, data), os.path.getsize(p), None))

    print("== timings: %d warm-up + %d runs each, whole process, page cache warm" % (a.warmup, a.runs), flush=True)
    for task, tool, cmd, fname, nbytes, out in rows:
        runs, failed = [], None
        for i in range(a.warmup + a.runs):
            if out:
                clean(out)
            pre = wait_idle(a.idle_wait, a.idle_threshold) if (i >= a.warmup and a.idle_wait > 0) else None
            m = run_once(cmd, a.timeout)
            m["pre_load"] = pre
            if out:
                clean(out)
            if m["rc"] != 0 or m["timed_out"]:
                failed = m
                print("  ! %s %s rc=%s timed_out=%s: %s\n    command: %s" % (
                    task, tool, m["rc"], m["timed_out"], m["stderr"].strip()[-400:], cmd), flush=True)
                break
            if m["leftover_procs"]:
                print("  ! %s %s: %d process(es) of the run still alive 10 s after it exited (killed)" % (
                    task, tool, m["leftover_procs"]), flush=True)
            if i >= a.warmup:
                runs.append(m)
        row = {"task": task, "tool": tool, "file": fname, "bytes": nbytes, "command": cmd,
               "check": status.get((task, tool), "-"), "runs": len(runs)}
        if failed is not None:
            row.update({"error": "rc=%s timed_out=%s" % (failed["rc"], failed["timed_out"]),
                        "stderr": failed["stderr"][-1000:]})
        if runs:
            walls = [r["wall"] for r in runs]
            row.update({"walls": walls, "wall_median": statistics.median(walls), "wall_min": min(walls),
                        "wall_max": max(walls), "mbps": nbytes / 1e6 / statistics.median(walls),
                        "maxrss_mb": max(r["maxrss_kb"] for r in runs) / 1024,
                        "cpu_median": statistics.median(r["cpu"] for r in runs),
                        "foreign_cores": statistics.median(r["foreign_cores"] for r in runs)})
            jobs = [float(x) for r in runs for x in re.findall(r"^JOB_SECONDS=([0-9.]+)$", r["stderr"], re.M)]
            if len(jobs) == len(runs):
                row["job_median"] = statistics.median(jobs)
            print("  %-5s %-10s %8.3f s (%.3f-%.3f)  %8.1f MB/s  rss %6.0f MB  cpu %6.2f s  others %.2f cores" % (
                task, tool, row["wall_median"], row["wall_min"], row["wall_max"], row["mbps"], row["maxrss_mb"],
                row["cpu_median"], row["foreign_cores"]), flush=True)
        results.append(row)
        save()

    table = make_table(results, meta, skipped)
    print()
    print(table)
    print("\n(results: %s)" % json_path)
    save(table)
    bad = [r for r in results if r["check"] == "FAIL" or "error" in r]
    if bad:
        print("\nFAILED: %s" % ", ".join("%s/%s (%s)" % (r["task"], r["tool"], "; ".join(
            (["wrong output on the 10 MiB set"] if r["check"] == "FAIL" else []) + ([r["error"]] if "error" in r else [])))
            for r in bad))
        return 1
    return 0


def rel_or_abs(path, data):
    rel = os.path.relpath(path, data)
    return path if rel.startswith("..") else rel


def warm_file(path):
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def make_table(results, meta, skipped):
    timed = {(r["task"], r["tool"]): r for r in results if "wall_median" in r}
    limit = timed.get(("limit", "limit-c")) or timed.get(("limit", "limit-read"))
    lines = ["| task | file (MB) | tool | median wall s (min-max) | in-process s | MB/s | mrsh / tool (wall) "
             "| MB/s / limit | peak RSS MB | CPU s | other load (cores) | check |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        name = r["task"] if r["task"] == "limit" else "%s `%s`" % (r["task"], TASKS[r["task"]][1].replace("|", "\\|"))
        if "wall_median" not in r:
            lines.append("| %s | %s (%.0f) | %s | failed: %s | | | | | | | | %s |" % (
                name, r["file"], r["bytes"] / 1e6, r["tool"], r.get("error", "?"), r["check"]))
            continue
        m = timed.get((r["task"], "mrsh"))
        ratio = "-" if (m is None or r["tool"] == "mrsh" or r["task"] == "limit") else "%.2f" % (
            m["wall_median"] / r["wall_median"])
        of_limit = "%.2f" % (r["mbps"] / limit["mbps"]) if limit else "-"
        lines.append("| %s | %s (%.0f) | %s | %.3f (%.3f-%.3f) | %s | %.0f | %s | %s | %.0f | %.2f | %.2f | %s |" % (
            name, r["file"], r["bytes"] / 1e6, r["tool"], r["wall_median"], r["wall_min"], r["wall_max"],
            "%.3f" % r["job_median"] if "job_median" in r else "-", r["mbps"],
            ratio, of_limit, r["maxrss_mb"], r["cpu_median"], r["foreign_cores"], r["check"]))
    notes = ["", "%d records; %s." % (meta["records"], ", ".join("%s %.0f MB" % (n, b / 1e6) for n, b in meta["files"].items()))]
    if limit:
        notes.append("limit = `%s` at %.0f MB/s (%s); the goal is mrsh within 2x of the C word-count limit's "
                     "bytes per second: MB/s / limit >= 0.5%s." % (
                         limit["tool"], limit["mbps"], "the C word count on the text set" if limit["tool"] == "limit-c"
                         else "read only, no text set in DATA_DIR: a ceiling, not the word-count limit",
                         "" if limit["tool"] == "limit-c" else " (here against the read-only ceiling)"))
    notes += ["- " + n for n in NOTES]
    notes += ["- skipped: " + s for s in skipped]
    return "\n".join(lines + notes)


if __name__ == "__main__":
    sys.exit(main())

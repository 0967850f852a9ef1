#!/usr/bin/env python3
"""mrsh's join next to DuckDB's: an access log joined with a small user table (broadcast) and with one as
large as the log (shuffle).

  python3 bench/join.py DATA_DIR [--size 1GiB] [--small-rows 100000] [--cases small,large]
                                 [--tools mrsh,duckdb] [--runs 3] [--workers 2] [--mrsh .build/release/mrsh]
                                 [--mrsh-args "..."] [--no-check] [--json FILE]

1. Data, cached in DATA_DIR/join-<size>/ (and the check set in DATA_DIR/join-check/), deterministic:
     log.tsv          uid ts method path status bytes     (TAB-separated; about --size bytes)
     users-large.tsv  id name country plan                (one row per id u0 .. u(M-1), as large as the log)
     users-small.tsv  the first --small-rows rows of users-large.tsv
   Half the log's records come from the first --small-rows users (the active ones), half from all M, so the
   small join keeps about half of the log and the large join every record (each id is once in the table).
2. Correctness (unless --no-check): both tools run both joins on the 8 MiB check set; their outputs, as sorted
   lines, must be equal (a mismatch is printed and the row says FAIL).
3. Timing: per (case, tool) one warm-up and --runs timed runs of the whole command as a fresh process, page
   cache warm; median wall, and the ratio mrsh / DuckDB. mrsh writes its output directory, DuckDB a TSV
   file, both on the same disk; the output is removed after each run.

The mrsh statement (MRSH_STATEMENT below) joins with `join users on uid = id`, forcing the strategy with
`using broadcast|shuffle` per case (--auto: no `using`, mrsh chooses by --broadcast-limit).
Standard library only, plus the duckdb module.
"""
import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from gen_data import parse_size  # noqa: E402
from bench import clean, mrsh_string, run_once, size_label, warm  # noqa: E402

MiB = 1 << 20
GEN_VERSION = 1
CHUNK = 50000  # log records per generator task (each chunk has its own seeded RNG)
CHECK_SIZE = 8 * MiB

LOG_FIELDS = ("uid", "ts", "method", "path", "status", "bytes")
USER_FIELDS = ("id", "name", "country", "plan")

MRSH_STATEMENT = (
    'let users = read USERS | split "\\t" as ' + ", ".join(USER_FIELDS) + "; "
    'read LOG | split "\\t" as ' + ", ".join(LOG_FIELDS) + " | join users on uid = id STRATEGY| write OUT")

DUCKDB_SCRIPT = r"""
import duckdb, sys
log, users, out = sys.argv[1:4]
def source(path, names):
    cols = ", ".join("'%s': 'VARCHAR'" % n for n in names)
    return "read_csv(%r, delim='\t', header=false, quote='', escape='', columns={%s})" % (path, cols)
con = duckdb.connect()
con.execute("COPY (SELECT l.*, u.name, u.country, u.plan FROM %s l JOIN %s u ON l.uid = u.id) TO %r "
            "(FORMAT csv, DELIMITER '\t', HEADER false, QUOTE '')"
            % (source(log, %LOG%), source(users, %USERS%), out))
""".replace("%LOG%", repr(LOG_FIELDS)).replace("%USERS%", repr(USER_FIELDS))

COUNTRIES = ["de", "fr", "jp", "us", "br", "in", "ng", "ua", "gb", "es", "it", "kr", "mx", "pl", "se", "tr"]
PLANS = ["free", "pro", "team", "enterprise"]
METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE"]
STATUSES = ["200", "301", "304", "404", "500", "502", "503"]


def user_row(i):
    """Row i of the user table (the same in both tables)."""
    h = int.from_bytes(hashlib.blake2b(b"u%d" % i, digest_size=8).digest(), "little")
    return "u%d\tuser-%x\t%s\t%s\n" % (i, h & 0xFFFFFFFFFF, COUNTRIES[(h >> 40) % 16], PLANS[(h >> 44) % 4])


def log_chunk(args):
    seed, index, users, active = args
    rng = random.Random("%s-join-log-%d" % (seed, index))
    paths = ["/p/%d" % k for k in range(2000)]
    lines = []
    first = index * CHUNK
    for j in range(CHUNK):
        uid = rng.randrange(active) if rng.random() < 0.5 else rng.randrange(users)
        sec = 1717200000 + (first + j) // 8
        lines.append("u%d\t%d\t%s\t%s\t%s\t%d\n" % (
            uid, sec, METHODS[rng.randrange(5)], paths[rng.randrange(2000)], STATUSES[rng.randrange(7)],
            rng.randrange(200000)))
    return "".join(lines)


def users_chunk(args):
    start, end = args
    return "".join(user_row(i) for i in range(start, end))


def generate(d, size, small_rows, seed, jobs):
    """Writes the set into d (via d.tmp); returns its meta."""
    print("== generating %s (log about %s)" % (d, size_label(size)), flush=True)
    t0 = time.perf_counter()
    tmp = d + ".tmp"
    clean(tmp)
    os.makedirs(tmp)
    # Rows of the user table: as many as make a table about as large as the log.
    row_bytes = statistics.mean(len(user_row(i)) for i in range(1_000_000, 1_000_100))
    users = max(small_rows, int(size / row_bytes))
    with mp.Pool(jobs) as pool:
        written, index, records, done = 0, 0, 0, False
        with open(os.path.join(tmp, "log.tsv"), "w", encoding="ascii") as f:
            while not done:
                for text in pool.map(log_chunk, [(seed, index + k, users, small_rows) for k in range(2 * jobs)]):
                    if written + len(text) >= size:
                        # The last chunk's first records, up to the size.
                        text = text[:text.rfind("\n", 0, size - written) + 1]
                        done = True
                    f.write(text)
                    written += len(text)
                    records += text.count("\n")
                    if done:
                        break
                index += 2 * jobs
        step = 200000
        with open(os.path.join(tmp, "users-large.tsv"), "w", encoding="ascii") as large, \
                open(os.path.join(tmp, "users-small.tsv"), "w", encoding="ascii") as small:
            for start, text in zip(range(0, users, step),
                                   pool.imap(users_chunk, [(s, min(users, s + step)) for s in range(0, users, step)])):
                large.write(text)
                if start < small_rows:
                    rows = text.splitlines(keepends=True)[:small_rows - start]
                    small.write("".join(rows))
    meta = {"version": GEN_VERSION, "seed": seed, "size": size, "small_rows": small_rows, "users": users,
            "log_records": records,
            "files": {n: os.path.getsize(os.path.join(tmp, n)) for n in ("log.tsv", "users-large.tsv", "users-small.tsv")}}
    with open(os.path.join(tmp, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    os.rename(tmp, d)
    print("   %d log records, %d users, %s in %.1f s" % (
        records, users, ", ".join("%s %d bytes" % kv for kv in meta["files"].items()), time.perf_counter() - t0),
        flush=True)
    return meta


def ensure_set(d, size, small_rows, seed, jobs):
    meta = os.path.join(d, "meta.json")
    if os.path.isdir(d):
        try:
            with open(meta) as f:
                m = json.load(f)
            if (m["version"], m["seed"], m["size"], m["small_rows"]) == (GEN_VERSION, seed, size, small_rows) and all(
                    os.path.getsize(os.path.join(d, n)) == s for n, s in m["files"].items()):
                return m
        except (OSError, ValueError, KeyError):
            pass
        sys.exit("join: %s is not a complete set of this generator and these options: remove it" % d)
    return generate(d, size, small_rows, seed, jobs)


def commands(tool, case, d, out, args):
    users = os.path.join(d, "users-%s.tsv" % case)
    log = os.path.join(d, "log.tsv")
    if tool == "mrsh":
        strategy = "" if args.auto else "using %s " % ("broadcast" if case == "small" else "shuffle")
        stmt = (MRSH_STATEMENT.replace("USERS", mrsh_string(users)).replace("LOG", mrsh_string(log))
                .replace("OUT", mrsh_string(out)).replace("STRATEGY", strategy))
        return "%s --workers %d --quiet %s-e %s" % (
            shlex.quote(args.mrsh), args.workers, args.mrsh_args + " " if args.mrsh_args else "", shlex.quote(stmt))
    return "%s %s %s %s %s" % (shlex.quote(sys.executable), shlex.quote(args.duckdb_script), shlex.quote(log),
                               shlex.quote(users), shlex.quote(out))


def output_lines(out):
    """The output's lines, sorted (a directory's part files or one file)."""
    paths = ([os.path.join(out, n) for n in sorted(os.listdir(out)) if n.startswith("part-")]
             if os.path.isdir(out) else [out])
    lines = []
    for p in paths:
        with open(p, "rb") as f:
            lines += f.read().splitlines()
    lines.sort()
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--size", default="1GiB")
    ap.add_argument("--small-rows", type=int, default=100000)
    ap.add_argument("--cases", default="small,large")
    ap.add_argument("--tools", default="mrsh,duckdb")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--mrsh", default=os.path.join(REPO, ".build", "release", "mrsh"))
    ap.add_argument("--mrsh-args", default="")
    ap.add_argument("--auto", action="store_true", help="no `using`: mrsh chooses the strategy itself")
    ap.add_argument("--seed", default="mrsh-join-1")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json")
    args = ap.parse_args()
    size = parse_size(args.size)
    tools = args.tools.split(",")
    cases = args.cases.split(",")
    if "duckdb" in tools:
        try:
            import duckdb  # noqa: F401
        except ImportError:
            sys.exit("join: the duckdb module is not installed (pip install duckdb), or leave it out of --tools")
    if "mrsh" in tools and not os.access(args.mrsh, os.X_OK):
        sys.exit("join: no mrsh at %s (swift build -c release, or --mrsh PATH)" % args.mrsh)
    os.makedirs(args.data, exist_ok=True)
    jobs = max(1, os.cpu_count() or 1)
    scratch = os.path.join(args.data, "join-out")
    clean(scratch)
    os.makedirs(scratch)
    # DuckDB's side as a script of its own, so that the printed command is short.
    args.duckdb_script = os.path.join(args.data, "join-duckdb.py")
    with open(args.duckdb_script, "w") as f:
        f.write(DUCKDB_SCRIPT)

    failed = set()
    if not args.no_check:
        check = os.path.join(args.data, "join-check")
        ensure_set(check, CHECK_SIZE, min(args.small_rows, 20000), args.seed, jobs)
        for case in cases:
            outputs = {}
            for tool in tools:
                out = os.path.join(scratch, "check-%s-%s" % (tool, case))
                m = run_once(commands(tool, case, check, out, args), args.timeout)
                if m["rc"] != 0:
                    print("FAIL %s %s: exit %s\n%s" % (tool, case, m["rc"], m["stderr"]), flush=True)
                    failed.add((tool, case))
                else:
                    outputs[tool] = output_lines(out)
                clean(out)
            if len(outputs) == 2 and outputs["mrsh"] != outputs["duckdb"]:
                a, b = outputs["mrsh"], outputs["duckdb"]
                print("FAIL %s: mrsh %d lines, duckdb %d lines; first difference: %r" % (
                    case, len(a), len(b), next(((x, y) for x, y in zip(a, b) if x != y), None)), flush=True)
                failed.add(("mrsh", case))
            elif len(outputs) == 2:
                print("check %s: mrsh and duckdb agree on %d lines" % (case, len(outputs["mrsh"])), flush=True)

    d = os.path.join(args.data, "join-%s" % size_label(size))
    meta = ensure_set(d, size, args.small_rows, args.seed, jobs)
    warm(d)
    results = []
    for case in cases:
        times = {}
        for tool in tools:
            out = os.path.join(scratch, "%s-%s" % (tool, case))
            walls = []
            for run in range(args.runs + 1):
                cmd = commands(tool, case, d, out, args)
                m = run_once(cmd, args.timeout)
                clean(out)
                if m["rc"] != 0:
                    print("FAIL %s %s: exit %s\n%s" % (tool, case, m["rc"], m["stderr"]), flush=True)
                    failed.add((tool, case))
                    break
                if run > 0:
                    walls.append(m["wall"])
            if walls:
                times[tool] = statistics.median(walls)
                results.append({"case": case, "tool": tool, "median_s": times[tool], "runs": walls,
                                "maxrss_mib": m["maxrss_kb"] / 1024, "command": cmd,
                                "check": "FAIL" if (tool, case) in failed else ("-" if args.no_check else "ok")})
        ratio = times["mrsh"] / times["duckdb"] if "mrsh" in times and "duckdb" in times else None
        for r in results:
            if r["case"] == case:
                r["ratio"] = ratio
    print()
    print("log %.1f MiB (%d records); users-small %d rows; users-large %d rows (%.1f MiB)" % (
        meta["files"]["log.tsv"] / MiB, meta["log_records"], meta["small_rows"], meta["users"],
        meta["files"]["users-large.tsv"] / MiB))
    print("%-6s %-7s %10s %22s %9s %6s %s" % ("case", "tool", "median s", "runs", "peak MiB", "check", "mrsh/duckdb"))
    for r in results:
        print("%-6s %-7s %10.2f %22s %9.0f %6s %s" % (
            r["case"], r["tool"], r["median_s"], " ".join("%.2f" % w for w in r["runs"]), r["maxrss_mib"], r["check"],
            "%.2f" % r["ratio"] if r.get("ratio") else "-"))
    for r in results:
        print("  %s %s: %s" % (r["case"], r["tool"], r["command"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    clean(scratch)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

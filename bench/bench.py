#!/usr/bin/env python3
"""mrsh next to its peers: word count, grep, sort and a one-shot query, timed side by side.

Normally started through bench/run.sh DATA_DIR [options] (Python 3 standard library only).

  python3 bench/bench.py DATA_DIR [--size 64MiB] [--tasks wc,grep,sort,oneshot] [--runs 3]
                                  [--workers 2] [--mrsh PATH] [--tools mrsh,gnu-grep] [--json FILE]

1. Data: the deterministic sets of gen_data.py (byte-identical to the peers' runner), generated
   when DATA_DIR lacks them.  The standard 1 GiB sets live in DATA_DIR/{text,log,sort} (the
   peers' layout, so an existing peers' data directory can be reused); another --size lives in
   DATA_DIR/<size>/{text,log,sort}.  The 10 MiB samples (text-10m, log-10m, sort-10m) sit beside
   them; the one-shot file is DATA_DIR/oneshot-1mib/text/part-00000.txt.
2. Build: mrsh in release mode (`swift build -c release` at the repository root, unless --mrsh or
   --no-build) and the C limit programs into bench/build/.
3. Correctness: every tool runs each task on the 10 MiB samples and its output is compared with a
   Python reference (word = maximal run of ASCII letters, case-sensitive; grep = lines containing
   "error"; sort = lines in byte order of their first 10 bytes, checked by MD5 of the whole
   output).  A tool that disagrees is marked FAIL in the table (and still timed).
4. Timing: per (task, tool) 1 warm-up + --runs runs of the whole command as a fresh process, page
   cache warm; median wall (min-max), MB/s, ratio to the C limit of the same task and data, peak
   RSS of the largest process, CPU seconds, and the cores other processes used meanwhile.
"""
import argparse
import collections
import glob
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
CLK = os.sysconf("SC_CLK_TCK")
MiB = 1 << 20
GiB = 1 << 30
TIME_BIN = "/usr/bin/time"

sys.path.insert(0, HERE)
from gen_data import parse_size  # noqa: E402  (same size syntax as the generator)

# ------------------------------------------------------------------ tools
# name, command (bash; {in} input dir, {out} output path, {bin} C build dir, {mrsh} mrsh binary,
# {w} workers, {py} python, {peers} peer scripts), output format for the checker, requirement.
# mrsh's commands are built by mrsh_cmd() because the statement needs its own quoting.
GNU_WC = ("cat {in}/* | LC_ALL=C tr -cs 'A-Za-z' '\\n' | LC_ALL=C sort --parallel=2 -S 4G "
          "| LC_ALL=C uniq -c > {out}")
WARM_EXTRA = 10  # extra queries of the warm-workers script
SUM = " | awk '{{s+=$1}} END {{print \"COUNT=\" s}}'"
TOOLS = {
    "wc": [
        ("limit-c", "{bin}/limit_wc -t 2 -o {out} {in}/*", "tab", None),
        ("gnu-sort-uniq", GNU_WC, "uniq", None),
        ("gnu-tr-mawk", "cat {in}/* | LC_ALL=C tr -cs 'A-Za-z' '\\n' | LC_ALL=C mawk "
                        "'{{c[$0]++}} END {{for (w in c) print w \"\\t\" c[w]}}' > {out}", "tab", "mawk"),
        ("mrsh", "wc", "parts-tab", "mrsh"),
        ("duckdb", "{py} {peers}/duckdb_job.py wc {in} {out}", "tab", "duckdb"),
        ("spark-sql", "{py} {peers}/spark_job.py wc {in} {out} --api sql", "spark", "pyspark"),
    ],
    "grep-count": [
        ("limit-read", "{bin}/limit_wc -r -t 2 {in}/*", "none", None),
        ("gnu-grep", "LC_ALL=C grep -c -h error {in}/*" + SUM, "count", None),
        ("ripgrep", "rg -c --no-filename -j 2 error {in}/*" + SUM, "count", "rg"),
        ("mrsh", "grep-count", "count", "mrsh"),
        ("duckdb", "{py} {peers}/duckdb_job.py grep {in} {out}", "count", "duckdb"),
        ("spark-sql", "{py} {peers}/spark_job.py grep {in} {out} --api sql", "count", "pyspark"),
    ],
    "grep-out": [
        ("gnu-grep", "LC_ALL=C grep -h error {in}/* > {out}", "line-set", None),
        ("ripgrep", "rg --no-filename --no-line-number -j 2 error {in}/* > {out}", "line-set", "rg"),
        ("mrsh", "grep-out", "parts-line-set", "mrsh"),
        ("duckdb", "{py} {peers}/duckdb_job.py grep-out {in} {out}", "line-set", "duckdb"),
    ],
    "sort": [
        ("limit-sort", "{bin}/limit_sort -o {out} {in}/*", "lines", None),
        ("gnu-sort", "LC_ALL=C sort --parallel=2 -S 4G -k1.1,1.10 -o {out} {in}/*", "lines", None),
        ("mrsh", "sort", "parts-lines", "mrsh"),
        ("duckdb", "{py} {peers}/duckdb_job.py sort {in} {out}", "lines", "duckdb"),
        ("spark-sql", "{py} {peers}/spark_job.py sort {in} {out} --api sql", "spark-lines", "pyspark"),
    ],
    "oneshot": [
        ("limit-c", "{bin}/limit_wc -t 2 -o {out} {in}/*", "tab", None),
        ("gnu-sort-uniq", GNU_WC, "uniq", None),
        ("mrsh", "wc", "parts-tab", "mrsh"),
    ],
    # a script of 1 and of 1 + WARM_EXTRA trivial queries: the difference is the cost of a query on warm workers
    "warm": [
        ("mrsh-1q", "warm", "count", "mrsh"),
        ("mrsh-%dq" % (1 + WARM_EXTRA), "warm", "count", "mrsh"),
    ],
}
MRSH_STATEMENTS = {
    "wc": 'read {in} | map words | reduce count | write {out}',
    "grep-count": 'read {in} | grep "error" | count',
    "grep-out": 'read {in} | grep "error" | write {out}',
    "sort": 'read {in} | sort by record | write {out}',
    "warm": 'read {in} | count',
}
TASK_GROUPS = {"wc": ["wc"], "grep": ["grep-count", "grep-out"], "grep-count": ["grep-count"],
               "grep-out": ["grep-out"], "sort": ["sort"], "oneshot": ["oneshot"], "warm": ["warm"]}
KIND = {"wc": "text", "grep-count": "log", "grep-out": "log", "sort": "sort", "oneshot": "oneshot", "warm": "oneshot"}
SAMPLE = {"wc": "text-10m", "grep-count": "log-10m", "grep-out": "log-10m", "sort": "sort-10m"}
# the limit of each task: the fastest of these rows on the same data (for grep, a complete grep costs
# no more than reading: ripgrep's reads on 2 threads match the plain read loop)
LIMITS = {"wc": ["limit-c"], "oneshot": ["limit-c"], "sort": ["limit-sort"],
          "grep-count": ["limit-read", "ripgrep"], "grep-out": ["limit-read", "ripgrep"], "warm": []}


def mrsh_string(s):
    """s as an mrsh string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mrsh_cmd(kind, idir, out, mrsh, workers, extra, queries=1):
    """The mrsh command of a row; queries > 1 runs the statement that many times as a script (`run -`)."""
    stmt = MRSH_STATEMENTS[kind].format(**{"in": mrsh_string(idir + "/*"), "out": mrsh_string(out)})
    base = "%s --workers %d --quiet %s" % (shlex.quote(mrsh), workers, extra)
    if queries == 1:
        return base + "-e " + shlex.quote(stmt)
    return "printf '%%s\\n' %s | %srun -" % (" ".join([shlex.quote(stmt)] * queries), base)


def available(req, mrsh):
    if req is None:
        return True
    if req == "mrsh":
        return bool(mrsh)
    if req in ("duckdb", "pyspark"):
        if req == "pyspark" and not shutil.which("java"):
            return False
        return subprocess.run([sys.executable, "-c", "import " + req], capture_output=True).returncode == 0
    return shutil.which(req) is not None


# ------------------------------------------------------------------ files
def files_of(d):
    return sorted(f for f in glob.glob(os.path.join(d, "*")) if os.path.isfile(f))


def dir_bytes(d):
    return sum(os.path.getsize(f) for f in files_of(d))


def clean(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def size_label(n):
    for unit, m in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n % m == 0:
            return "%d%s" % (n // m, unit)
    return "%dB" % n


# ------------------------------------------------------------------ data
def ensure_data(data, root, kinds, size, jobs):
    """Generate what is missing under root (sets) and data (the one-shot file); refuse sets whose size is
    off (never delete data the script did not just decide to make)."""
    gen = [sys.executable, os.path.join(HERE, "gen_data.py")]
    for kind in kinds:
        if kind == "oneshot":
            d = os.path.join(data, "oneshot-1mib")
            if not files_of(os.path.join(d, "text")):
                run_gen(gen + [d, "--only", "text", "--text-size", "1MiB", "--text-file-size", "1MiB",
                               "--no-samples", "--jobs", str(jobs)])
            continue
        d = os.path.join(root, kind)
        sample = os.path.join(root, kind + "-10m")
        have = dir_bytes(d) if os.path.isdir(d) else 0
        if have == 0:
            file_size = {"text": 2 * MiB, "log": 64 * MiB, "sort": 64 * MiB}[kind]
            run_gen(gen + [root, "--only", kind, "--%s-size" % kind, str(size),
                           "--%s-file-size" % kind, str(min(file_size, size)), "--jobs", str(jobs)])
            have = dir_bytes(d)
        elif not files_of(sample):
            make_sample(gen, root, kind, jobs)
        # gen_data writes whole records, so a set may be a little short of its nominal size
        if not (0.99 * size <= have <= size):
            sys.exit("bench: %s holds %d bytes, expected about %d (--size %s): remove it or use another "
                     "DATA_DIR" % (d, have, size, size_label(size)))


def make_sample(gen, root, kind, jobs):
    """The 10 MiB sample beside an existing set, as gen_data.py makes it (text: links to the first files)."""
    sample = os.path.join(root, kind + "-10m")
    print("== %s exists without its sample: making %s" % (os.path.join(root, kind), sample), flush=True)
    os.makedirs(sample, exist_ok=True)
    if kind == "text":
        for f in files_of(os.path.join(root, "text"))[:5]:
            os.link(f, os.path.join(sample, os.path.basename(f)))
        return
    tmp = os.path.join(root, "_sample-" + kind)
    clean(tmp)
    run_gen(gen + [tmp, "--only", kind, "--%s-size" % kind, "10MiB", "--%s-file-size" % kind, "10MiB",
                   "--no-samples", "--jobs", str(jobs)])
    for f in files_of(os.path.join(tmp, kind)):
        os.rename(f, os.path.join(sample, os.path.basename(f)))
    clean(tmp)


def run_gen(cmd):
    print("== generating: %s" % " ".join(shlex.quote(c) for c in cmd[1:]), flush=True)
    subprocess.run(cmd, check=True)


def warm(d):
    for f in files_of(d):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass


# ------------------------------------------------------------------ build
def build_c(build, cflags):
    os.makedirs(build, exist_ok=True)
    cc = os.environ.get("CC", "gcc")
    for name in ("limit_wc", "limit_sort"):
        src, exe = os.path.join(HERE, name + ".c"), os.path.join(build, name)
        if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
            continue
        cmd = [cc] + cflags.split() + ["-o", exe, src]
        print("== " + " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)


def build_mrsh():
    print("== swift build -c release (in %s)" % REPO, flush=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "mrsh"], cwd=REPO, check=True)
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.strip()
    return os.path.join(bindir, "mrsh")


# ------------------------------------------------------------------ one run
def _session_procs(sid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p, "rb") as f:
                st = f.read()
            rest = st[st.rindex(b")") + 2:].split()
            if int(rest[3]) != sid:  # field 6: session id
                continue
            cpu = (int(rest[11]) + int(rest[12])) / CLK  # fields 14, 15: utime, stime
            hwm = 0
            with open("/proc/%s/status" % p, "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        hwm = int(line.split()[1])
            out.append((int(p), hwm, cpu))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _busy():
    """CPU seconds (all cores) spent busy since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / CLK  # minus idle and iowait


def _kill_session(sid):
    """SIGKILL the processes left in the session this script started (by their PIDs)."""
    for pid, _, _ in _session_procs(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def run_once(cmd, timeout):
    """Run cmd (a bash string) as a fresh process in its own session and measure it.

    Peak RSS is the largest single process: the larger of /usr/bin/time's %M (the maximum over the
    processes that were waited for) and the VmHWM of every process of the session, sampled every 20 ms
    (which also sees processes nobody waits for)."""
    fd, tfile = tempfile.mkstemp(prefix="mrsh-bench-time-")
    os.close(fd)
    argv = ["bash", "-c", cmd]
    if os.access(TIME_BIN, os.X_OK):
        argv = [TIME_BIN, "-q", "-o", tfile, "-f", "%M %U %S"] + argv
    busy0 = _busy()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    peak = {"hwm": 0}
    cpus = {}
    done = threading.Event()

    def sampler():
        while not done.is_set():
            for pid, hwm, c in _session_procs(p.pid):
                peak["hwm"] = max(peak["hwm"], hwm)
                cpus[pid] = max(cpus.get(pid, 0.0), c)
            done.wait(0.02)

    outbuf = {}

    def reader(name, stream):
        outbuf[name] = stream.read()

    threads = [threading.Thread(target=sampler, daemon=True)] + [
        threading.Thread(target=reader, args=(n, s), daemon=True) for n, s in (("out", p.stdout), ("err", p.stderr))]
    for t in threads:
        t.start()
    timed_out = False
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_session(p.pid)
        p.wait()
    wall = time.perf_counter() - t0
    busy1 = _busy()
    # processes of the run still alive after it exited (workers that outlive their client) are reported
    # and killed, so that they do not load the next run
    deadline = time.time() + 10
    while _session_procs(p.pid) and time.time() < deadline:
        time.sleep(0.05)
    leftover = len(_session_procs(p.pid))
    _kill_session(p.pid)
    done.set()
    for t in threads:
        t.join(5)
    rss_kb, cpu = peak["hwm"], sum(cpus.values())
    try:
        with open(tfile) as f:
            fields = f.read().split()
        rss_kb = max(rss_kb, int(fields[-3]))
        cpu = max(cpu, float(fields[-2]) + float(fields[-1]))
    except (OSError, ValueError, IndexError):
        pass
    os.remove(tfile)
    out = outbuf.get("out", b"").decode("utf-8", "replace")
    err = outbuf.get("err", b"").decode("utf-8", "replace")
    m = {"wall": wall, "rc": p.returncode, "timed_out": timed_out, "cpu": cpu, "maxrss_kb": rss_kb,
         "foreign_cores": max(0.0, (busy1 - busy0) - cpu) / wall, "leftover_procs": leftover,
         "stdout": out[-2000:], "stderr": err[-2000:]}
    counts = re.findall(r"^COUNT=([0-9]+)$", out, re.M)
    if counts:
        m["count"] = int(counts[-1])
    return m


def wait_idle(max_wait, threshold, window=2.0):
    """Wait (up to max_wait s) until all processes together use fewer than threshold cores."""
    t_end = time.time() + max_wait
    while True:
        b0 = _busy()
        time.sleep(window)
        load = (_busy() - b0) / window
        if load < threshold or time.time() > t_end:
            return load


# ------------------------------------------------------------------ correctness
def ref_wc(d):
    c = collections.Counter()
    for f in files_of(d):
        with open(f, "rb") as fh:
            c.update(re.findall(rb"[A-Za-z]+", fh.read()))
    return dict(c)


def ref_grep_lines(d):
    out = []
    for f in files_of(d):
        with open(f, "rb") as fh:
            out.extend(line for line in fh if b"error" in line)
    return out


def ref_sort(d):
    lines = []
    for f in files_of(d):
        with open(f, "rb") as fh:
            lines.extend(fh.read().splitlines(keepends=True))
    lines.sort(key=lambda l: l[:10])
    return hashlib.md5(b"".join(lines)).hexdigest()


def line_set_digest(lines):
    return hashlib.md5(b"".join(sorted(lines))).hexdigest()


def reference(task, d):
    if task in ("wc", "oneshot"):
        return ref_wc(d)
    if task == "grep-count":
        return len(ref_grep_lines(d))
    if task == "warm":
        return sum(open(f, "rb").read().count(b"\n") for f in files_of(d))
    if task == "grep-out":
        return line_set_digest(ref_grep_lines(d))
    return ref_sort(d)


def read_output(path, fmt, stdout):
    """The tool's answer in the reference's form."""
    if fmt == "count":
        if "COUNT=" in stdout:
            return int(re.findall(r"^COUNT=([0-9]+)$", stdout, re.M)[-1])
        return int(stdout.split()[-1])  # mrsh's count: the number alone
    if fmt.startswith("parts-") or fmt.startswith("spark"):
        parts = sorted(glob.glob(os.path.join(path, "part-*")))
        if not parts:
            raise ValueError("no part-* files in %s" % path)
        if fmt.startswith("parts-") and not os.path.exists(os.path.join(path, "_SUCCESS")):
            raise ValueError("no _SUCCESS in %s" % path)
        data = b"".join(open(f, "rb").read() for f in parts)
    else:
        data = open(path, "rb").read()
    if fmt in ("lines", "parts-lines", "spark-lines"):
        return hashlib.md5(data).hexdigest()
    if fmt in ("line-set", "parts-line-set"):
        return line_set_digest(data.splitlines(keepends=True))
    d = {}
    for line in data.splitlines():
        if fmt == "uniq":
            parts = line.split(None, 1)
            n, w = parts[0], (parts[1] if len(parts) > 1 else b"")
        else:
            w, n = line.rsplit(b"\t", 1)
        if w:  # the GNU pipeline may emit one empty token when the input starts with a non-letter
            d[w] = d.get(w, 0) + int(n)
    return d


def describe(task, got, ref):
    if isinstance(ref, dict):
        if not isinstance(got, dict):
            return "unreadable: %s" % got
        if got == ref:
            return "%d distinct, %d words" % (len(got), sum(got.values()))
        diff = [w for w in set(got) | set(ref) if got.get(w) != ref.get(w)]
        ex = ", ".join("%s: %s vs %s" % (w.decode("latin-1"), got.get(w), ref.get(w)) for w in sorted(diff)[:3])
        return "%d distinct, %d words (reference %d, %d); %d words differ, e.g. %s" % (
            len(got), sum(got.values()), len(ref), sum(ref.values()), len(diff), ex)
    if task in ("grep-count", "warm"):
        return "count %s (reference %d)" % (got, ref)
    return "md5 %s (reference %s)" % (got, ref)


# ------------------------------------------------------------------ main
def machine_info(mrsh, cflags):
    def first(cmd):
        try:
            r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "missing"
    cpu = first("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
    mem = first("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    info = {"machine": "%d cores, %s, %s" % (os.cpu_count() or 0, mem, cpu.strip()), "kernel": platform.release(),
            "python": platform.python_version(), "gcc": first("${CC:-gcc} --version") + " (" + cflags + ")",
            "coreutils": first("sort --version"), "grep": first("grep --version"),
            "ripgrep": first("rg --version") if shutil.which("rg") else "missing",
            "mawk": first("mawk -W version 2>&1") if shutil.which("mawk") else "missing",
            "mrsh": mrsh or "not run"}
    if mrsh:
        info["mrsh_commit"] = first("git -C %s rev-parse --short HEAD" % shlex.quote(REPO)) + (
            " (dirty)" if first("git -C %s status --porcelain -uno | head -n1" % shlex.quote(REPO)) not in ("missing", "") else "")
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--size", type=parse_size, default=GiB,
                    help="size of each data set: text, log and sort (default 1GiB, the standard sets; e.g. 64MiB)")
    ap.add_argument("--tasks", default="wc,grep,sort,oneshot,warm",
                    help="comma list of wc, grep (= grep-count,grep-out), grep-count, grep-out, sort, oneshot, warm")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per row (the median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before them")
    ap.add_argument("--workers", default="2",
                    help="mrsh --workers; a comma list (1,2,4) gives one mrsh row per count, named mrsh-wN")
    ap.add_argument("--mrsh", default="", help="the mrsh binary to time (default: build it in release mode)")
    ap.add_argument("--mrsh-args", default="", help="extra mrsh options, e.g. '--memory 256M'")
    ap.add_argument("--no-build", action="store_true", help="use .build/release/mrsh as it is")
    ap.add_argument("--tools", default="", help="only these tools (comma list, e.g. mrsh,limit-c,gnu-grep)")
    ap.add_argument("--skip-tools", default="", help="not these tools (e.g. mrsh: the peers only)")
    ap.add_argument("--json", default="", help="results file (default DATA_DIR/_bench/results.json; "
                                               "the table goes beside it as results.md)")
    ap.add_argument("--scratch", default="", help="where outputs go (default DATA_DIR/_bench/scratch)")
    ap.add_argument("--no-check", action="store_true", help="skip the correctness check on the samples")
    ap.add_argument("--check-only", action="store_true", help="only the correctness check")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--idle-wait", type=float, default=0,
                    help="before each timed run wait up to this many seconds for an idle machine (default 0)")
    ap.add_argument("--idle-threshold", type=float, default=0.15)
    ap.add_argument("--cflags", default=os.environ.get("CFLAGS", "-O3 -march=native -pthread"),
                    help="flags for the C limit programs (default: the peers' runner's)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for data generation")
    a = ap.parse_args()

    tasks = []
    for t in filter(None, a.tasks.split(",")):
        if t not in TASK_GROUPS:
            ap.error("unknown task %r (wc, grep, grep-count, grep-out, sort, oneshot, warm)" % t)
        tasks += [g for g in TASK_GROUPS[t] if g not in tasks]
    try:
        workers = [int(w) for w in a.workers.split(",") if w]
    except ValueError:
        ap.error("--workers takes a number or a comma list of numbers")
    if a.runs < 1 or a.warmup < 0 or not workers or min(workers) < 1:
        ap.error("--runs and --workers must be at least 1, --warmup at least 0")
    only = set(filter(None, a.tools.split(",")))
    skip = set(filter(None, a.skip_tools.split(",")))
    want_mrsh = "mrsh" not in skip and (not only or "mrsh" in only)

    data = os.path.abspath(a.data_dir)
    if '"' in data or "\\" in data:
        sys.exit("bench: DATA_DIR may not contain '\"' or '\\'")
    root = data if a.size == GiB else os.path.join(data, size_label(a.size))
    work = os.path.join(data, "_bench")
    scratch = os.path.abspath(a.scratch or os.path.join(work, "scratch"))
    json_path = os.path.abspath(a.json or os.path.join(work, "results.json"))
    os.makedirs(scratch, exist_ok=True)

    # data, then builds
    kinds = []
    for t in tasks:
        if KIND[t] not in kinds:
            kinds.append(KIND[t])
    ensure_data(data, root, kinds, a.size, a.jobs)
    bindir = os.path.join(HERE, "build")
    build_c(bindir, a.cflags)
    mrsh = ""
    if want_mrsh:
        if a.mrsh:
            mrsh = os.path.abspath(a.mrsh)
        elif a.no_build:
            mrsh = os.path.join(REPO, ".build", "release", "mrsh")
        else:
            mrsh = build_mrsh()
        if not os.access(mrsh, os.X_OK):
            sys.exit("bench: no mrsh binary at %s" % mrsh)
    info = machine_info(mrsh, a.cflags)
    print("== machine")
    for k, v in info.items():
        print("  %-12s %s" % (k + ":", v))
    sys.stdout.flush()

    fmtargs = {"bin": bindir, "peers": PEERS, "py": shlex.quote(sys.executable)}

    def dataset(t):
        if KIND[t] == "oneshot":
            return os.path.join(data, "oneshot-1mib", "text")
        return os.path.join(root, KIND[t])

    def sample(t):
        return dataset(t) if KIND[t] == "oneshot" else os.path.join(root, SAMPLE[t])

    def tools_for(t):
        out = []
        for name, cmd, fmt, req in TOOLS[t]:
            if (only and name not in only) or name in skip or not available(req, mrsh):
                continue
            if name == "mrsh" and len(workers) > 1:
                out += [("mrsh-w%d" % w, cmd, fmt) for w in workers]
            else:
                out.append((name, cmd, fmt))
        return out

    def command(t, name, cmd, idir, out):
        if name.startswith("mrsh"):
            w = int(name[len("mrsh-w"):]) if name.startswith("mrsh-w") else workers[0]
            queries = int(name[len("mrsh-"):-1]) if t == "warm" else 1
            return mrsh_cmd(cmd, idir, out, mrsh, w, a.mrsh_args + " " if a.mrsh_args else "", queries)
        return cmd.format(**{"in": shlex.quote(idir), "out": shlex.quote(out)}, **fmtargs)

    for t in tasks:
        warm(dataset(t))
        warm(sample(t))

    # correctness on the samples
    status = {}
    if not a.no_check:
        print("== correctness on the samples (Python reference)", flush=True)
        for t in tasks:
            sdir = sample(t)
            ref = reference(t, sdir)
            for name, cmd, fmt in tools_for(t):
                if fmt == "none":
                    continue
                out = os.path.join(scratch, "check-%s-%s" % (t, name))
                clean(out)
                m = run_once(command(t, name, cmd, sdir, out), a.timeout)
                try:
                    got = read_output(out, fmt, m["stdout"])
                except Exception as e:  # noqa: BLE001  (any unreadable output is a failed check)
                    got = "unreadable: %s" % e
                ok = got == ref and m["rc"] == 0
                info_line = describe(t, got, ref)
                if m["rc"] != 0:
                    info_line += "; rc=%d: %s" % (m["rc"], m["stderr"].strip()[-300:])
                status[(t, name)] = "OK" if ok else "FAIL"
                print("  %-10s %-14s %s  %s (%s, %.2f s)" % (t, name, "OK  " if ok else "FAIL", info_line,
                                                            os.path.basename(sdir), m["wall"]), flush=True)
                clean(out)
    if a.check_only:
        return 1 if "FAIL" in status.values() else 0

    # timings
    results = []
    report = {"info": info, "args": vars(a), "results": results}

    def save(table=None):
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump(report, f, indent=1)
        if table is not None:
            with open(os.path.splitext(json_path)[0] + ".md", "w") as f:
                f.write(table + "\n")

    print("== timings: %d warm-up + %d runs each, whole process, page cache warm" % (a.warmup, a.runs), flush=True)
    for t in tasks:
        idir = dataset(t)
        nbytes = dir_bytes(idir)
        for name, cmd, fmt in tools_for(t):
            out = os.path.join(scratch, "out-%s-%s" % (t, name))
            c = command(t, name, cmd, idir, out)
            runs = []
            failed = None
            for i in range(a.warmup + a.runs):
                clean(out)
                pre = wait_idle(a.idle_wait, a.idle_threshold) if (i >= a.warmup and a.idle_wait > 0) else None
                m = run_once(c, a.timeout)
                clean(out)
                if m["rc"] != 0 or m["timed_out"]:
                    failed = m
                    print("  ! %s %s rc=%s timed_out=%s: %s\n    command: %s" % (
                        t, name, m["rc"], m["timed_out"], m["stderr"].strip()[-400:], c), flush=True)
                    break
                if m["leftover_procs"]:
                    print("  ! %s %s: %d process(es) of the run still alive 10 s after it exited (killed)" % (
                        t, name, m["leftover_procs"]), flush=True)
                m["pre_load"] = pre
                if i >= a.warmup:
                    runs.append(m)
            row = {"task": t, "set": os.path.relpath(idir, data), "bytes": nbytes, "tool": name, "command": c,
                   "check": status.get((t, name), "-"), "runs": len(runs)}
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
                print("  %-10s %-14s %8.3f s (%.3f-%.3f)  %8.1f MB/s  rss %6.0f MB  cpu %6.2f s  others %.2f cores" % (
                    t, name, row["wall_median"], row["wall_min"], row["wall_max"], row["mbps"], row["maxrss_mb"],
                    row["cpu_median"], row["foreign_cores"]), flush=True)
            results.append(row)
            save()

    table = make_table(results)
    wq = {r["tool"]: r["wall_median"] for r in results if r["task"] == "warm" and "wall_median" in r}
    if len(wq) == 2:
        report["warm_query_s"] = (wq["mrsh-%dq" % (1 + WARM_EXTRA)] - wq["mrsh-1q"]) / WARM_EXTRA
        table += ("\n\nA query on warm workers (`read ONE_MIB_FILE | count` in a script, %d extra queries): "
                  "%.1f ms each." % (WARM_EXTRA, report["warm_query_s"] * 1000))
    print()
    print(table)
    print("\n(results: %s)" % json_path)
    save(table)
    bad = [r for r in results if r["check"] == "FAIL" or "error" in r]
    if bad:
        print("\nFAILED: %s" % ", ".join("%s/%s%s" % (r["task"], r["tool"], " (wrong output)" if r["check"] == "FAIL"
                                                      else " (%s)" % r["error"]) for r in bad))
        return 1
    return 0


def make_table(results):
    lines = ["| task | data | tool | median wall s (min-max) | MB/s | x limit | peak RSS MB (largest process) "
             "| CPU s | other load (cores) | check |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if "wall_median" not in r:
            lines.append("| %s | %s (%.0f MB) | %s | %s | | | | | | %s |" % (
                r["task"], r["set"], r["bytes"] / 1e6, r["tool"], "failed: " + r.get("error", "?"), r["check"]))
            continue
        lim = [x["wall_median"] for x in results if "wall_median" in x and x["set"] == r["set"]
               and x["tool"] in LIMITS[r["task"]] and (x["task"] == r["task"] or x["tool"] == "limit-read")]
        ratio = ("%.1f" % (r["wall_median"] / min(lim))) if lim else "-"
        lines.append("| %s | %s (%.0f MB) | %s | %.3f (%.3f-%.3f) | %s | %s | %.0f | %.2f | %.2f | %s |" % (
            r["task"], r["set"], r["bytes"] / 1e6, r["tool"], r["wall_median"], r["wall_min"], r["wall_max"],
            "-" if r["task"] == "warm" else "%.0f" % r["mbps"], ratio, r["maxrss_mb"], r["cpu_median"], r["foreign_cores"], r["check"]))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""mrsh on Spark next to native mrsh and Spark's own SQL job: word count, grep and sort, in one run.

  python3 bench/spark.py DATA_DIR [--size 1GiB] [--runs 3] [--master local[2]] [--mrsh PATH] [--tasks wc,grep,sort]

Data: the deterministic sets of gen_data.py (DATA_DIR/{text,log,sort} for 1 GiB, DATA_DIR/<size>/... otherwise),
generated when missing. Rows, each a whole process timed from the shell (median of --runs, after one warm-up):

  mrsh native      mrsh --workers 2 (its own engine)
  mrsh spark cold  mrsh --engine spark --master M: spark-submit, the job and the end of the session
  mrsh spark warm  the same with MRSH_SPARK_SESSION: the application is already running (the job alone)
  spark-sql        bench/peers/spark_job.py TASK --api sql --master M (the peers' benchmark job), whole process,
                   and its JOB_SECONDS (the action inside a running session) in parentheses

Every mrsh-on-Spark output is compared byte for byte with native mrsh's (parts, or the printed count) first.
Prints a table with the ratio of Spark SQL's job time to mrsh-on-Spark's warm time (above 1: mrsh is faster).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from gen_data import parse_size  # noqa: E402

STATEMENTS = {
    "wc": 'read "{i}/*" | map words | reduce count | write "{o}"',
    "grep": 'read "{i}/*" | grep "error" | count',
    "sort": 'read "{i}/*" | sort by record | write "{o}"',
}
KIND = {"wc": "text", "grep": "log", "sort": "sort"}
PEER_TASK = {"wc": "wc", "grep": "grep", "sort": "sort"}


def data_dirs(root, size):
    base = root if size == 1 << 30 else os.path.join(root, format_size(size))
    if not all(os.path.isdir(os.path.join(base, k)) for k in ("text", "log", "sort")):
        print("generating %s of data in %s" % (format_size(size), base), flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py"), base, "--no-samples",
                        "--text-size", str(size), "--log-size", str(size), "--sort-size", str(size)], check=True)
    return base


def format_size(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return str(n)


def timed(command, env=None):
    """(seconds, stdout) of a shell command; fails loudly on a non-zero status."""
    started = time.perf_counter()
    done = subprocess.run(command, shell=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (done.returncode, command, done.stderr.decode(errors="replace")[-2000:]))
    return elapsed, done.stdout.decode(errors="replace")


def parts(directory):
    return [open(os.path.join(directory, n), "rb").read() for n in sorted(os.listdir(directory)) if n.startswith("part-")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--size", type=parse_size, default=1 << 30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--mrsh", default=os.path.join(REPO, ".build/release/mrsh"))
    ap.add_argument("--tasks", default="wc,grep,sort")
    a = ap.parse_args()
    if not os.access(a.mrsh, os.X_OK):
        subprocess.run(["swift", "build", "-c", "release", "--product", "mrsh"], cwd=REPO, check=True)
    base = data_dirs(a.data_dir, a.size)
    scratch = tempfile.mkdtemp(prefix="mrsh-spark-bench-")
    session = os.path.join(scratch, "session")
    env = dict(os.environ)
    warm_env = dict(env, MRSH_SPARK_SESSION=session, MRSH_SPARK_IDLE="900")
    mrsh = a.mrsh
    rows = []
    try:
        for task in a.tasks.split(","):
            source = os.path.join(base, KIND[task])
            out = os.path.join(scratch, "out")

            def command(engine):
                statement = STATEMENTS[task].format(i=source, o=out)
                extra = "--engine spark --master '%s'" % a.master if engine == "spark" else "--workers 2"
                return "rm -rf '%s' && '%s' %s --quiet -e '%s'" % (out, mrsh, extra, statement)

            # Correctness first: Spark's output is native mrsh's, byte for byte.
            _, native_stdout = timed(command("native"), env)
            native_parts = parts(out) if os.path.isdir(out) else None
            _, spark_stdout = timed(command("spark"), warm_env)
            spark_parts = parts(out) if os.path.isdir(out) else None
            same = native_stdout == spark_stdout and native_parts == spark_parts
            times = {}
            for name, cmd, e in (("native", command("native"), env), ("cold", command("spark"), env),
                                 ("warm", command("spark"), warm_env)):
                timed(cmd, e)  # warm-up (and the warm session's start)
                times[name] = statistics.median(timed(cmd, e)[0] for _ in range(a.runs))
            peer = "rm -rf '{o}' && {py} {p}/spark_job.py {t} '{i}' '{o}' --api sql --master '{m}'".format(
                o=out, py=sys.executable, p=os.path.join(HERE, "peers"), t=PEER_TASK[task], i=source, m=a.master)
            timed(peer, env)
            whole, jobs = [], []
            for _ in range(a.runs):
                seconds, text = timed(peer, env)
                whole.append(seconds)
                jobs.extend(float(l.split("=")[1]) for l in text.splitlines() if l.startswith("JOB_SECONDS="))
            times["sql"] = statistics.median(whole)
            times["sql-job"] = statistics.median(jobs) if jobs else float("nan")
            rows.append((task, same, times))
            print("%s done: %s" % (task, times), flush=True)
    finally:
        try:  # the warm session's driver (no reader: it ended already)
            fd = os.open(os.path.join(session, "requests"), os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"stop\n")
            os.close(fd)
        except OSError:
            pass
        time.sleep(2)
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print("%s sets, master %s, medians of %d whole-process runs after 1 warm-up" % (format_size(a.size), a.master, a.runs))
    print("| task | mrsh native | mrsh on Spark, cold | mrsh on Spark, warm session | Spark SQL (job alone) "
          "| Spark SQL job / mrsh on Spark warm | same bytes |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for task, same, t in rows:
        print("| %s | %.2f s | %.2f s | %.2f s | %.2f s (%.2f s) | %.2f | %s |" % (
            task, t["native"], t["cold"], t["warm"], t["sql"], t["sql-job"], t["sql-job"] / t["warm"],
            "yes" if same else "NO"))


if __name__ == "__main__":
    main()

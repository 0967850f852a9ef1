#!/usr/bin/env python3
"""DuckDB peer for the field-level benchmark (bench/fields.py).

usage: duckdb_fields.py {t1,t2,t3,t4} FILE [--threads 2]

Prints the answer on standard output, one row a line, fields separated by TAB (the form mrsh prints):
  t1  status, count, sum(bytes) of the rows with status >= 500   (access.log, space separated, no header)
  t2  path, count of the 10 most requested paths, most first      (access.log)
  t3  status, count, sum(bytes)                                   (access.csv: header, quoted agent column)
  t4  status, count, sum(bytes)                                   (access.jsonl: newline-delimited JSON)
and SESSION_SECONDS / JOB_SECONDS (in-process times, without the interpreter's start-up) on standard error.
Types are given, not sniffed (auto_detect off for the CSV readers), so the timings have no sampling pass.
"""
import argparse
import sys
import time

t0 = time.perf_counter()
import duckdb  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("task", choices=["t1", "t2", "t3", "t4"])
ap.add_argument("file")
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()

f = a.file.replace("'", "''")
LOG = ("read_csv('%s', delim=' ', header=false, quote='', escape='', auto_detect=false, "
       "columns={'ip': 'VARCHAR', 'ts': 'VARCHAR', 'method': 'VARCHAR', 'path': 'VARCHAR', "
       "'status': 'INTEGER', 'bytes': 'BIGINT'})" % f)
CSV = ("read_csv('%s', delim=',', header=true, quote='\"', escape='\"', auto_detect=false, "
       "columns={'ip': 'VARCHAR', 'ts': 'VARCHAR', 'method': 'VARCHAR', 'path': 'VARCHAR', "
       "'status': 'INTEGER', 'bytes': 'BIGINT', 'agent': 'VARCHAR'})" % f)
JSON = ("read_json('%s', format='newline_delimited', columns={'status': 'INTEGER', 'bytes': 'BIGINT'})" % f)
SQL = {
    "t1": "SELECT status, count(*), sum(bytes) FROM %s WHERE status >= 500 GROUP BY status" % LOG,
    "t2": "SELECT path, count(*) AS c FROM %s GROUP BY path ORDER BY c DESC, path LIMIT 10" % LOG,
    "t3": "SELECT status, count(*), sum(bytes) FROM %s GROUP BY status" % CSV,
    "t4": "SELECT status, count(*), sum(bytes) FROM %s GROUP BY status" % JSON,
}

con = duckdb.connect()
con.execute("SET threads=%d" % a.threads)
t1 = time.perf_counter()
rows = con.execute(SQL[a.task]).fetchall()
t2 = time.perf_counter()
sys.stdout.write("".join("\t".join(str(v) for v in r) + "\n" for r in rows))
sys.stderr.write("SESSION_SECONDS=%.3f\nJOB_SECONDS=%.3f\n" % (t1 - t0, t2 - t1))

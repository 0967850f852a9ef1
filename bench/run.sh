#!/usr/bin/env bash
# mrsh next to its peers (GNU tools, ripgrep, the C limit programs; DuckDB and Spark when installed).
#   bench/run.sh DATA_DIR [options]            # the standard 1 GiB sets, generated when missing
#   bench/run.sh DATA_DIR --size 64MiB --runs 1 # a quick run
#   bench/run.sh DATA_DIR -h                    # every option
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DATA_DIR [options]   (-h for the options)" >&2
  exit 2
fi
exec python3 "$(cd "$(dirname "$0")" && pwd)/bench.py" "$@"

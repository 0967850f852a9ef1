#!/usr/bin/env bash
# mrsh next to its peers (GNU tools, ripgrep, the C limit programs; DuckDB and Spark when installed).
#   bench/run.sh DATA_DIR [options]            # the standard 1 GiB sets, generated when missing
#   bench/run.sh DATA_DIR --size 64MiB --runs 1 # a quick run
#   bench/run.sh DATA_DIR -h                    # every option
#   bench/run.sh fields DATA_DIR [options]     # the field-level language next to DuckDB and mawk (fields.py -h)
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DATA_DIR [options]   (-h for the options)" >&2
  echo "       $0 fields DATA_DIR [options]   (field-level queries next to DuckDB and mawk)" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
if [ "$1" = fields ]; then
  shift
  exec python3 "$here/fields.py" "$@"
fi
exec python3 "$here/bench.py" "$@"

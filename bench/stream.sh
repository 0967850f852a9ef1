#!/bin/sh
# Throughput of `stream "cat"`: the same map-only job with and without the stream stage, on the generated
# ~1 GiB text (default /work/benchdata/text, or DATA=dir; generate it with bench/gen_data.py). Prints each
# run's time, MB/s of input and the ratio. Run from the repository root: bench/stream.sh [runs]
# MRSH=path to a binary (default: a release build); WORKERS (default 2).
set -e
DATA=${DATA:-/work/benchdata/text}
RUNS=${1:-3}
WORKERS=${WORKERS:-2}
if [ -z "$MRSH" ]; then
    swift build -c release --product mrsh >/dev/null
    MRSH=.build/release/mrsh
fi
BYTES=$(cat "$DATA"/* | wc -c)
OUT=$(mktemp -d "${TMPDIR:-/tmp}/mrsh-stream-bench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# best SCRIPT: the fastest of $RUNS runs, in seconds.
best() {
    best_time=""
    i=0
    while [ $i -lt "$RUNS" ]; do
        rm -rf "$OUT/out"
        start=$(date +%s.%N)
        "$MRSH" --workers "$WORKERS" --quiet -e "$1"
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best_time" ] || [ "$(echo "$t < $best_time" | bc -l)" = 1 ]; then best_time=$t; fi
        i=$((i + 1))
    done
    echo "$best_time"
}

PLAIN="read \"$DATA/*\" | write \"$OUT/out\""
STREAM="read \"$DATA/*\" | stream \"cat\" | write \"$OUT/out\""
plain=$(best "$PLAIN")
stream=$(best "$STREAM")
mb=$(echo "$BYTES / 1000000" | bc -l)
printf 'input: %s (%.0f MB), %s workers, best of %s\n' "$DATA" "$mb" "$WORKERS" "$RUNS"
printf '%-60s %6.2f s %7.0f MB/s\n' "mrsh -e '$(echo "$PLAIN" | sed "s|$OUT|OUT|")'" "$plain" "$(echo "$mb / $plain" | bc -l)"
printf '%-60s %6.2f s %7.0f MB/s\n' "mrsh -e '$(echo "$STREAM" | sed "s|$OUT|OUT|")'" "$stream" "$(echo "$mb / $stream" | bc -l)"
printf 'stream "cat" takes %.2fx the time of the same job without it\n' "$(echo "$stream / $plain" | bc -l)"

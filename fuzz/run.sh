#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time on a copy of its seed corpus.
#
#   fuzz/run.sh [SECONDS]          # default 60 seconds per target
#   FUZZ_TARGETS="FuzzFrames" fuzz/run.sh 300
#
# Exits non-zero when a target crashes (or the build fails); crash inputs and logs are in fuzz/out/
# (git-ignored). Reproduce one with: fuzz/.build/release/<Target> fuzz/out/<Target>/crash-...
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
targets=(${FUZZ_TARGETS:-FuzzParser FuzzFrames})

echo "== building (release, -sanitize=fuzzer,address)"
for target in "${targets[@]}"; do
    swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "$target"
done
bin="$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --show-bin-path)"

status=0
for target in "${targets[@]}"; do
    case "$target" in
        FuzzParser) seeds=corpus/parser; max_len=4096; dict=parser.dict ;;
        FuzzFrames) seeds=corpus/frames; max_len=65536; dict=frames.dict ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
    out="out/$target"
    work="$out/corpus"
    rm -rf "$work"
    mkdir -p "$work"
    cp "$seeds"/* "$work"/
    echo "== $target: ${seconds}s on a copy of $seeds ($(ls "$seeds" | wc -l) seeds) in $work"
    # One in-process job per target (what -jobs=1 would do, without a forked child and fuzz-0.log).
    # -malloc_limit_mb: any single allocation over 1 GiB (e.g. a buffer for a declared 2 GiB frame) is a crash.
    if "$bin/$target" "$work" \
        -dict="$dict" -max_total_time="$seconds" -max_len="$max_len" \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout="${FUZZ_TIMEOUT:-5}" -print_final_stats=1 \
        -artifact_prefix="$out/" >"$out/log.txt" 2>&1; then
        echo "   ok: $(grep -E '^stat::number_of_executed_units' "$out/log.txt" | awk '{print $2}') executions," \
            "$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$out/log.txt" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')"
    else
        status=1
        echo "   CRASH: see $out/log.txt and $(ls "$out"/crash-* "$out"/leak-* "$out"/oom-* "$out"/timeout-* 2>/dev/null | tr '\n' ' ')"
        grep -E 'Fatal error|ERROR: |SUMMARY' "$out/log.txt" | head -5 | sed 's/^/   /'
    fi
done
exit "$status"

#!/bin/sh
# The coordinator at scale (issue 16; docs/SCALE.md): builds the simulation harness in release mode and runs its
# suite -- the real JobScheduler and TaskBoards over up to 2,000 simulated workers, M = 200,000 and R = 5,000,
# in memory and over loopback connections -- then writes docs/scale.jsonl (one JSON object per run),
# docs/scale-table.md (the table) and docs/scale.svg (the plot).
#
#   bench/sim.sh            the full suite (about 2 minutes on 2 quiet cores)
#   bench/sim.sh --quick    three small runs (seconds)
#   .build/release/mrsh-sim run --workers 2000 --maps 200000 --reduces 5000 [--kill 0.1] [--transport loopback]
#                           one run (mrsh-sim without arguments lists the options)
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product mrsh-sim
.build/release/mrsh-sim suite --out docs/scale.jsonl "$@" | tee docs/scale-table.md
python3 bench/scale_plot.py docs/scale.jsonl docs/scale.svg
echo "wrote docs/scale.jsonl, docs/scale-table.md, docs/scale.svg"

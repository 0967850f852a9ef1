#!/bin/sh
# A skewed shuffle join (one key holds 50% of the left side) run with and without the coordinator's skew
# handling (MRSH_JOIN_SKEW=off), on the in-process engine of a release build: times and the output records
# per reducer (max and median). Run from the repository root:
#   bench/join_skew.sh [LEFT_RECORDS [REDUCERS [WORKERS]]]     (defaults 2000000 8 2)
set -e
swift build -c release --target MrshControl
R=.build/release
LOGGING=$(ls -d $R/Logging.build)
swiftc -O -module-name JoinSkewBench -swift-version 5 bench/join_skew.swift -I $R/Modules \
    -Xcc -fmodule-map-file=$R/CMrshShims.build/module.modulemap -Xcc -ISources/CMrshShims/include \
    $R/MrshControl.build/*.o $R/MrshDataPath.build/*.o $R/MrshPlan.build/*.o $R/CMrshShims.build/*.o \
    $LOGGING/*.o -o $R/join-skew-bench
$R/join-skew-bench "$@"

#!/bin/sh
# Records per second of the expression stages (where, select, sort keys) on 1M generated log lines, in a
# release build of MrshDataPath, against a `trim` baseline. Run from the repository root: bench/expressions.sh
set -e
swift build -c release --target MrshDataPath
R=.build/release
swiftc -O -module-name ExprBench -swift-version 5 bench/expressions.swift -I $R/Modules \
    -Xcc -fmodule-map-file=$R/CMrshShims.build/module.modulemap -Xcc -ISources/CMrshShims/include \
    $R/MrshDataPath.build/*.o $R/MrshPlan.build/*.o $R/CMrshShims.build/*.o -o $R/expressions-bench
$R/expressions-bench

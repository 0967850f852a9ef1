// mrsh is Linux only (Package.swift): the engine, cluster and shell call Glibc, prctl and Linux's socket
// options directly. Say so at compile time rather than with a wall of missing symbols.
#if !os(Linux)
#error("mrsh builds on Linux only")
#endif

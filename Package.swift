// swift-tools-version:6.0
import PackageDescription

/// mrsh: a MapReduce shell. See docs/ARCHITECTURE.md for the module map.
///
/// Linux only: the sources call Glibc (and Linux's prctl and TCP options) directly, so no other platform is
/// declared (`Sources/MrshDataPath/LinuxOnly.swift` stops a build elsewhere). Each target depends on exactly
/// the modules its files import.
let package = Package(
    name: "mrsh",
    products: [
        .executable(name: "mrsh", targets: ["mrsh"]),
        // For the fuzzing package in fuzz/ (a separate package can only depend on products).
        .library(name: "MrshLanguage", targets: ["MrshLanguage"]),
        .library(name: "MrshWire", targets: ["MrshWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C helpers the hot paths need and Swift cannot see (memmem, POSIX regex, prctl).
        .target(name: "CMrshShims"),
        // libedit (Debian: libedit-dev), wrapped by a shim header of fixed-arity functions.
        .systemLibrary(
            name: "CLibEdit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // Lexer, parser, AST and diagnostics of the mrsh language.
        .target(name: "MrshLanguage"),
        // The serializable task graph shared by planner, engine and wire protocol.
        .target(name: "MrshPlan"),
        // AST -> task graph, and `explain`.
        .target(name: "MrshPlanner", dependencies: ["MrshLanguage", "MrshPlan", "MrshDataPath"]),
        // The engine's data path, what a worker runs: records as bytes, operators, line reading, the combiner,
        // shuffle kinds, buffers, sorted runs and merges, map and reduce task runners, the local blob store.
        .target(
            name: "MrshDataPath",
            dependencies: ["MrshPlan", "CMrshShims"],
            // Release builds skip the dynamic exclusivity checks (swift_beginAccess), ~10% of the sort
            // path's profile; debug builds (and `swift test`) keep them.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // The engine's control, what a coordinator runs: validation, input splits, range sampling, the
        // scheduler over the task board, re-execution and backups, output commit, in-process executors.
        .target(
            name: "MrshControl",
            dependencies: [
                "MrshDataPath", "MrshPlan",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // BoringSSL's AEAD functions as swift-crypto links them, for sealing frames in place (declarations only).
        .target(name: "CMrshSeal"),
        // Frames, messages, the token handshake and the sealing of frames of the wire protocol.
        .target(
            name: "MrshWire",
            dependencies: [
                "MrshPlan", "CMrshSeal",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Coordinator, worker and shuffle servers over TCP (SwiftNIO).
        .target(
            name: "MrshCluster",
            dependencies: [
                "MrshDataPath", "MrshControl", "MrshWire", "MrshPlan", "CMrshShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The same plans on Apache Spark: a session of spark-submit with mrsh's driver program, the runner of
        // each job's tasks there, and the executor side (`mrsh spark-task`).
        .target(
            name: "MrshSpark",
            dependencies: ["MrshControl", "MrshDataPath", "MrshPlan", "CMrshShims"]
        ),
        // The status page, its charts and `--report` (HTML and SVG drawn here), `/metrics`, over NIOHTTP1.
        .target(
            name: "MrshWeb",
            dependencies: [
                "MrshControl", "MrshDataPath", "MrshPlan", "MrshWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The coordinator at scale: the real scheduler over thousands of simulated workers (issue 16;
        // `bench/sim.sh`, docs/SCALE.md), and its command.
        .target(
            name: "MrshSim",
            dependencies: [
                "MrshCluster", "MrshControl", "MrshDataPath", "MrshPlan", "MrshWire",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "mrsh-sim", dependencies: ["MrshSim"]),
        // The session core shared by the REPL, scripts and one-shot mode; the REPL on libedit.
        .target(
            name: "MrshShell",
            dependencies: ["MrshLanguage", "MrshPlanner", "MrshPlan", "MrshDataPath", "MrshControl", "CLibEdit", "CMrshShims"]
        ),
        .executableTarget(
            name: "mrsh",
            dependencies: [
                "MrshShell", "MrshCluster", "MrshDataPath", "MrshControl", "MrshWire", "MrshPlan", "CMrshShims", "MrshWeb",
                "MrshSpark",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Release builds link the Swift runtime and Foundation statically: every process (the shell and
            // each embedded worker) starts about 9 ms sooner without resolving a dozen shared libraries
            // (one-shot `read | count` with 2 workers: 0.20 s -> 0.14 s median). The autolink entries of our
            // objects omit CoreFoundation and the ICU data Foundation needs, hence the explicit group.
            linkerSettings: [
                .unsafeFlags(
                    ["-static-stdlib", "-Xlinker", "--start-group"]
                        + [
                            "Foundation", "FoundationEssentials", "FoundationInternationalization", "CoreFoundation",
                            "_FoundationICU", "_FoundationCShims", "_FoundationCollections", "swiftSynchronization",
                            "swiftDispatch", "dispatch", "BlocksRuntime", "swiftCore", "stdc++",
                        ].flatMap { ["-Xlinker", "-l\($0)"] }
                        + ["-Xlinker", "--end-group"],
                    .when(configuration: .release))
            ]
        ),
        // Helpers every test target shares (a seeded random generator, a pseudo-terminal for the shell's tests).
        .target(name: "MrshTestSupport", dependencies: ["CLibEdit"], path: "Tests/MrshTestSupport"),
        // Counts this thread's mallocs (test binary only: it wraps glibc's malloc) for the allocation budgets.
        .target(name: "CMallocCounter", path: "Tests/CMallocCounter"),
        .testTarget(name: "MrshLanguageTests", dependencies: ["MrshLanguage", "MrshTestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "MrshPlannerTests", dependencies: ["MrshPlanner", "MrshLanguage", "MrshPlan"], resources: [.copy("Golden")]),
        .testTarget(
            name: "MrshEngineTests", dependencies: ["MrshDataPath", "MrshControl", "MrshPlan", "MrshTestSupport", "CMallocCounter"]
        ),
        .testTarget(
            name: "MrshWireTests",
            dependencies: ["MrshWire", "MrshPlan", "MrshTestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "MrshClusterTests",
            dependencies: [
                "MrshCluster", "MrshWire", "MrshDataPath", "MrshControl", "MrshPlan", "MrshTestSupport", "MrshSim", "MrshWeb",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The end-to-end, cluster and shell tests also run the `mrsh` binary, which every build builds (they find
        // it next to the test bundle or through MRSH_BINARY); it is not a dependency, since no test imports it.
        .testTarget(name: "MrshEndToEndTests", dependencies: ["MrshTestSupport"]),
        .testTarget(
            name: "MrshShellTests",
            dependencies: ["MrshShell", "MrshControl", "MrshDataPath", "MrshPlan", "CLibEdit", "MrshTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

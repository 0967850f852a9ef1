// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets for mrsh's script parser and wire frame decoder. Not part of the main package: the main
/// package does not depend on this one and `swift test` does not build it. Build and run with `./run.sh`.
/// Linux only, as mrsh is.
let package = Package(
    name: "MrshFuzz",
    dependencies: [
        .package(name: "mrsh", path: ".."),
        // Already a dependency of mrsh; named here for NIOCore and NIOEmbedded (FrameDecoder in a channel).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // libFuzzer's entry points under the names SwiftPM links executables with (see CFuzzMain.c).
        .target(name: "CFuzzMain"),
        // Bytes -> String (lenient UTF-8) -> parseScript, every diagnostic rendered, StatementCompleteness.
        .executableTarget(
            name: "FuzzParser",
            dependencies: ["CFuzzMain", .product(name: "MrshLanguage", package: "mrsh")]
        ),
        // Bytes cut at data-derived boundaries -> FrameParser, control/data/handshake decoding.
        .executableTarget(
            name: "FuzzFrames",
            dependencies: [
                "CFuzzMain",
                .product(name: "MrshWire", package: "mrsh"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // Writes corpus/frames (not a fuzzer): `swift run -c release ... FrameSeeds corpus/frames`, see README.md.
        .executableTarget(
            name: "FrameSeeds",
            dependencies: [
                .product(name: "MrshWire", package: "mrsh"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

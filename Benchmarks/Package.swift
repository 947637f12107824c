// swift-tools-version: 6.1
// Micro-benchmarks of sagactl's hot paths (ordo-one/benchmark). A package of its own, so that
// the main package's `swift build`, `swift test` and CI never build the benchmark tooling.
//
//     cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "SagaBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "sagactl", path: ".."),
        // Only the malloc interposer trait: the default traits also ask for a runtime
        // interposer package that is not available here (BUILD-NOTES.md).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SagaBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "StateLang", package: "sagactl"),
                .product(name: "Interpreter", package: "sagactl"),
                .product(name: "SQLiteStore", package: "sagactl"),
            ],
            path: "Benchmarks/SagaBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

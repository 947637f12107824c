// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sagactl",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "StateLang", targets: ["StateLang"]),
        .library(name: "Interpreter", targets: ["Interpreter"]),
        .library(name: "SQLiteStore", targets: ["SQLiteStore"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "Actions", targets: ["Actions"]),
        .executable(name: "sagactl", targets: ["sagactl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "StateLang",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(name: "Interpreter", dependencies: ["StateLang"]),
        .target(
            name: "SQLiteStore",
            dependencies: ["Interpreter", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "PostgresStore",
            dependencies: ["Interpreter", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .target(name: "Actions", dependencies: ["Interpreter"]),
        .target(
            name: "SagaCLI",
            dependencies: [
                "StateLang", "Interpreter", "SQLiteStore", "PostgresStore", "Actions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sagactl", dependencies: ["SagaCLI"]),
        .testTarget(name: "StateLangTests", dependencies: ["StateLang"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InterpreterTests", dependencies: ["Interpreter", "StateLang"]),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "SQLiteStore", "PostgresStore", "Interpreter", "StateLang", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        .testTarget(
            name: "SagactlTests",
            dependencies: [
                "sagactl", "SagaCLI", "StateLang", "Interpreter", "SQLiteStore", "PostgresStore", "Actions",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

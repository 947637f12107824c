// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sagactl",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "StateLang", targets: ["StateLang"]),
        .library(name: "Interpreter", targets: ["Interpreter"]),
        .library(name: "SQLiteStore", targets: ["SQLiteStore"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "Actions", targets: ["Actions"]),
        .library(name: "DemoShop", targets: ["DemoShop"]),
        .executable(name: "sagactl", targets: ["sagactl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
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
            dependencies: [
                "Interpreter", .product(name: "GRDB", package: "GRDB.swift"),
                // The C API, to bind group-commit rows without GRDB's argument boxing (SQLiteRow).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "PostgresStore",
            dependencies: ["Interpreter", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .target(
            name: "Actions",
            dependencies: [
                "Interpreter",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "DemoShop",
            dependencies: [
                "StateLang",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "SagaCLI",
            dependencies: [
                "StateLang", "Interpreter", "SQLiteStore", "PostgresStore", "Actions", "DemoShop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sagactl", dependencies: ["SagaCLI"]),
        .testTarget(name: "StateLangTests", dependencies: ["StateLang"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InterpreterTests", dependencies: ["Interpreter", "StateLang"]),
        .testTarget(
            name: "ActionsTests",
            dependencies: [
                "Actions", "Interpreter", "StateLang", "DemoShop", "SQLiteStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "SQLiteStore", "PostgresStore", "Interpreter", "StateLang", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        .testTarget(
            name: "DemoShopTests",
            dependencies: ["DemoShop", "StateLang", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "SagactlTests",
            dependencies: [
                "sagactl", "SagaCLI", "StateLang", "Interpreter", "SQLiteStore", "PostgresStore", "Actions", "DemoShop",
                // StoreFaultTests holds locks and edits headers through a connection of its own.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

import Foundation
import GRDB
import StateLang
import Testing

@testable import DemoShop

/// A small seed: two products and three customers with known numbers.
let testSeed = ShopSeed(
    products: [.init(id: 1, name: "lamp", stock: 10), .init(id: 2, name: "desk", stock: 3)],
    customers: [
        .init(id: 7, balance: 100, points: 50),
        .init(id: 8, balance: 20, points: 0),
        .init(id: 9, balance: 500, points: 10),
    ])

/// A fresh directory under the system's temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sagactl-shop-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Starts a shop in a fresh directory, runs `body` and stops the shop.
func withShop<T: Sendable>(
    faults: FaultSpec = .none, seed: ShopSeed = testSeed, _ body: (RunningShop) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        try await DemoShop.withRunningShop(directory: directory, seed: seed, faults: faults, body)
    }
}

extension RunningShop {
    /// `POST /{operation}` to the operation's service with the saga headers. The default
    /// deadline is generous: handlers share the cooperative pool with every other test, and
    /// synchronous tests elsewhere can hold it for many seconds.
    func call(
        _ operation: ShopOperation, _ body: JSONValue, key: String?, saga: String?, state: String? = nil,
        timeout: Duration = .seconds(60)
    ) async -> ClientOutcome {
        var headers: [String: String] = [:]
        if let key { headers["Idempotency-Key"] = key }
        if let saga { headers["Saga-Instance"] = saga }
        if let state { headers["Saga-State"] = state }
        return await RawHTTPClient.post(
            port: ports[operation.service]!, path: "/\(operation)", headers: headers, body: body.jsonString(),
            timeout: timeout)
    }

    /// Reads one service's database while the shop runs (WAL lets readers in).
    func read<T>(_ service: ShopService, _ body: (Database) throws -> T) throws -> T {
        try ShopDatabaseAccess.read(service.databaseURL(in: directory), body)
    }

    func int(_ service: ShopService, _ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try read(service) { try Int.fetchOne($0, sql: sql, arguments: arguments) ?? 0 }
    }
}

enum ShopDatabaseAccess {
    static func read<T>(_ url: URL, _ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: url.path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read(body)
    }

    /// Changes a stopped shop's database behind the services' back.
    static func write(_ url: URL, _ sql: String) throws {
        let queue = try DatabaseQueue(path: url.path)
        defer { try? queue.close() }
        try queue.write { try $0.execute(sql: sql) }
    }
}

/// Polls `condition` until it holds or `timeout` passes (checking once more after it);
/// returns whether it held.
func eventually(
    timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

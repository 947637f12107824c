import Foundation

/// The demo e-commerce shop: five HTTP services (inventory, orders, payments, points,
/// notifications) on 127.0.0.1, each with its own SQLite database in one directory, that
/// `workflows/order-payment.yaml` coordinates. See `RunningShop` for the running shop,
/// `FaultSpec` for fault injection and `ShopChecker` for the consistency check.
public enum DemoShop {
    /// The only address the services listen on.
    public static let host = "127.0.0.1"

    /// Opens (creating and seeding when new) the five databases in `directory` and starts the
    /// five servers in this process. Returns once every service listens (or, when `faults`
    /// says so, is down with its port known). Call `stop()` when done, or use
    /// `withRunningShop`, which does.
    ///
    /// - Parameters:
    ///   - seed: the data of a new shop; an existing directory keeps its data.
    ///   - faults: the initial faults; `RunningShop.setFaults` replaces them.
    ///   - ports: `.automatic` (any free port) by default.
    public static func start(
        directory: URL, seed: ShopSeed = .standard, faults: FaultSpec = .none, ports: ShopPorts = .automatic
    ) async throws -> RunningShop {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ledgers: [any ServiceLedger] = [
            InventoryLedger(), OrdersLedger(), PaymentsLedger(), PointsLedger(), NotificationsLedger(),
        ]
        let databases = try await offPool {
            var databases: [ServiceDatabase] = []
            do {
                for ledger in ledgers {
                    databases.append(try ServiceDatabase(ledger: ledger, directory: directory, seed: seed))
                }
            } catch {
                for database in databases { try database.close() }
                throw error
            }
            return databases
        }
        let injector = FaultInjector(spec: faults)
        let down = faults.initiallyDown
        let readiness = Locked(Readiness())
        let servers = databases.map { database in
            ServiceServer(
                database: database, injector: injector, host: host, port: ports[database.service],
                initiallyDown: down[database.service]
            ) { result in
                readiness.withLock { $0.report(result, for: database.service) }?.resume(with: result)
            }
        }
        // Unstructured on purpose: the servers outlive this call. `RunningShop.stop()` cancels
        // this task and waits for it; `withRunningShop` scopes it to a closure.
        let task = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for server in servers {
                    group.addTask { try await server.run() }
                }
                // When one server fails, stop the others gracefully, then report the failure.
                var failure: (any Error)?
                while true {
                    do {
                        guard try await group.next() != nil else { break }
                    } catch {
                        if failure == nil {
                            failure = error
                            for server in servers { _ = server.send(.stop) }
                        }
                    }
                }
                if let failure { throw failure }
            }
        }
        var bound: [ShopService: Int] = [:]
        do {
            for server in servers {
                bound[server.service] = try await withCheckedThrowingContinuation { continuation in
                    if let result = readiness.withLock({ $0.wait(continuation, for: server.service) }) {
                        continuation.resume(with: result)
                    }
                }
            }
        } catch {
            for server in servers { _ = server.send(.stop) }
            let outcome = await task.result
            try await offPool { for database in databases { try database.close() } }
            if case .failure(let failure) = outcome, !(failure is CancellationError) { throw failure }
            throw error
        }
        return RunningShop(directory: directory, ports: bound, servers: servers, injector: injector, task: task)
    }

    /// Starts the shop, runs `body` with it and stops it, also when `body` throws.
    public static func withRunningShop<T: Sendable>(
        directory: URL, seed: ShopSeed = .standard, faults: FaultSpec = .none, ports: ShopPorts = .automatic,
        _ body: (RunningShop) async throws -> T
    ) async throws -> T {
        let shop = try await start(directory: directory, seed: seed, faults: faults, ports: ports)
        let result: T
        do {
            result = try await body(shop)
        } catch {
            try await shop.stop()
            throw error
        }
        try await shop.stop()
        return result
    }
}

/// The bound port (or failure) of each service, and whoever waits for it. One lock covers
/// both, so a report that arrives while the waiter registers is never lost.
private struct Readiness {
    private var results: [ShopService: Result<Int, any Error>] = [:]
    private var waiters: [ShopService: CheckedContinuation<Int, any Error>] = [:]

    /// Records `result`; returns the waiter to resume with it, if one is waiting.
    mutating func report(_ result: Result<Int, any Error>, for service: ShopService) -> CheckedContinuation<Int, any Error>? {
        if let waiter = waiters.removeValue(forKey: service) { return waiter }
        results[service] = result
        return nil
    }

    /// Registers `waiter`; returns the result to resume it with at once when it already came.
    mutating func wait(_ waiter: CheckedContinuation<Int, any Error>, for service: ShopService) -> Result<Int, any Error>? {
        if let result = results.removeValue(forKey: service) { return result }
        waiters[service] = waiter
        return nil
    }
}

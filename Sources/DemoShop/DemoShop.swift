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
        let readiness = Locked<[ShopService: CheckedContinuation<Int, any Error>]>([:])
        let early = Locked<[ShopService: Result<Int, any Error>]>([:])
        let servers = databases.map { database in
            ServiceServer(
                database: database, injector: injector, host: host, port: ports[database.service],
                initiallyDown: down[database.service]
            ) { result in
                let waiter = readiness.withLock { $0.removeValue(forKey: database.service) }
                if let waiter {
                    waiter.resume(with: result)
                } else {
                    early.withLock { $0[database.service] = result }
                }
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
                    let result = early.withLock { $0.removeValue(forKey: server.service) }
                    if let result {
                        continuation.resume(with: result)
                    } else {
                        readiness.withLock { $0[server.service] = continuation }
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

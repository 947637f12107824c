import Foundation
import StateLang
import Testing

@testable import DemoShop

@Suite("Shop lifecycle")
struct LifecycleTests {
    @Test("five services on distinct loopback ports, named by the workflow's environment variables")
    func ports() async throws {
        try await withShop { shop throws in
            #expect(Set(shop.ports.keys) == Set(ShopService.allCases))
            #expect(Set(shop.ports.values).count == 5)
            #expect(shop.ports.values.allSatisfy { $0 > 0 })
            #expect(shop.baseURL(.payments).absoluteString == "http://127.0.0.1:\(shop.ports[.payments]!)")
            #expect(shop.environment["NOTIFICATIONS_URL"] == "http://127.0.0.1:\(shop.ports[.notifications]!)")
            #expect(shop.environment.count == 5)
            for service in ShopService.allCases {
                #expect(FileManager.default.fileExists(atPath: service.databaseURL(in: shop.directory).path))
            }
        }
    }

    @Test("a restarted shop keeps its data and its stored replies")
    func restart() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await DemoShop.withRunningShop(directory: directory, seed: testSeed) { shop throws in
                await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "k1", saga: "s1")
            }
            #expect(first.status == 200)
            // Another seed does not overwrite the existing data.
            try await DemoShop.withRunningShop(directory: directory, seed: .generated(seed: 99)) { shop throws in
                #expect(await shop.call(.reserve, ["productId": 1, "quantity": 2], key: "k1", saga: "s1") == first)
                #expect(try shop.int(.inventory, "SELECT available FROM products WHERE id = 1") == 8)
                #expect(try shop.int(.payments, "SELECT COUNT(*) FROM accounts") == 3)
            }
        }
    }

    @Test("stop is idempotent; commands after it fail with ShopStoppedError")
    func stopTwice() async throws {
        try await withTemporaryDirectory { directory in
            let shop = try await DemoShop.start(directory: directory, seed: testSeed)
            let port = shop.ports[.orders]!
            try await shop.stop()
            try await shop.stop()
            await #expect(throws: ShopStoppedError.self) { try await shop.setDown(.orders, true) }
            #expect(await RawHTTPClient.post(port: port, path: "/create", headers: [:], body: "{}", timeout: .seconds(60)) == .refused)
        }
    }

    @Test("a port that is taken fails the start, and the services that did start are stopped")
    func portInUse() async throws {
        try await withShop { running throws in
            let taken = running.ports[.payments]!
            try await withTemporaryDirectory { directory in
                var ports = ShopPorts.automatic
                ports[.payments] = taken
                await #expect(throws: (any Error).self) {
                    try await DemoShop.start(directory: directory, seed: testSeed, ports: ports)
                }
            }
            // The running shop still answers on that port.
            #expect(await running.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 1], key: "k1", saga: "s1").status == 200)
        }
    }

    @Test("the standard seed is deterministic and covers the example order")
    func seeds() {
        #expect(ShopSeed.generated(seed: 1) == ShopSeed.standard)
        #expect(ShopSeed.generated(seed: 2) != ShopSeed.standard)
        #expect(ShopSeed.standard.products.count == 10)
        #expect(ShopSeed.standard.customers.contains { $0.id == 7 })
        let orders = ShopSeed.standard.orders(count: 50, seed: 4)
        #expect(orders == ShopSeed.standard.orders(count: 50, seed: 4))
        #expect(orders.count == 50)
        // Some orders ask for more than the customer has, so that some sagas compensate.
        let balances = Dictionary(uniqueKeysWithValues: ShopSeed.standard.customers.map { ($0.id, $0.balance) })
        #expect(orders.contains { order in
            guard case .int(let user)? = order["userId"], case .int(let amount)? = order["amount"] else { return false }
            return amount > balances[user]!
        })
    }
}

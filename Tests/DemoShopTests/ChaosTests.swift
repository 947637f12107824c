import Foundation
import StateLang
import Testing

@testable import DemoShop

@Suite("Checkouts under faults")
struct ChaosTests {
    @Test("concurrent checkouts with 5xx, resets, dropped replies and latency leave a consistent shop")
    func checkoutsUnderFaults() async throws {
        let seed = ShopSeed.generated(seed: 3, products: 4, customers: 12)
        let faults = try FaultSpec(
            parsing: "*:kind=5xx,rate=0.15;payments.pay:kind=drop,rate=0.3;inventory.reserve:kind=reset,rate=0.2;"
                + "orders.create:kind=drop,rate=0.2;points:kind=drop,rate=0.3;inventory.release:kind=drop,rate=0.3;"
                + "notifications.send:kind=drop,rate=0.5;orders.*:latency=2ms",
            seed: 11)
        let orders = seed.orders(count: 40, seed: 5)
        try await withTemporaryDirectory { directory in
            let sagas = try await DemoShop.withRunningShop(directory: directory, seed: seed, faults: faults) { shop throws in
                let driver = CheckoutDriver(shop: shop)
                return try await withThrowingTaskGroup(of: SagaSummary.self) { group in
                    for (index, input) in orders.enumerated() {
                        group.addTask { try await driver.run(saga: "chaos-\(index)", input: input) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let report = try ShopChecker.check(directory: directory, sagas: sagas)
            #expect(report.passed, "\(report)")
            #expect(sagas.contains { $0.status == .succeeded })
            #expect(sagas.contains { $0.status == .compensated })
            // The faults happened: replies were replayed to retries, and messages were delivered twice.
            #expect(report.statistics.replayedRequests > 0)
            #expect(report.statistics.duplicateDeliveries > 0)
        }
    }
}

import Foundation
import StateLang
import Testing

@testable import DemoShop

@Suite("Counting the faults injected")
struct FaultCountsTests {
    @Test("each request counts once under the fault that decided it, and once more when delayed")
    func countsPerKind() async throws {
        let spec = try FaultSpec(
            parsing: "payments.pay:kind=5xx;inventory.reserve:kind=reset;orders.create:kind=drop;points.*:latency=1ms")
        try await withShop(faults: spec) { shop throws in
            #expect(await shop.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 5], key: "k1", saga: "s1").status == 503)
            #expect(await shop.call(.pay, ["userId": 7, "orderId": "o-1", "amount": 5], key: "k1", saga: "s1").status == 503)
            _ = await shop.call(.reserve, ["productId": 1, "quantity": 1], key: "k2", saga: "s2")
            _ = await shop.call(.create, ["userId": 7, "productId": 1, "quantity": 1, "amount": 5], key: "k3", saga: "s3")
            #expect(await shop.call(.deduct, ["userId": 7, "points": 1], key: "k4", saga: "s4").status == 200)
            #expect(await shop.call(.send, ["userId": 7, "orderId": "o-1", "message": "hi"], key: "k5", saga: "s5").status == 200)
            try await shop.setDown(.notifications, true, for: .milliseconds(100))
            try await shop.setDown(.orders, true)
            try await shop.setDown(.orders, false)
            var expected = FaultCounts()
            expected.requests = 6
            expected.serverErrors = 2
            expected.resets = 1
            expected.droppedReplies = 1
            expected.delayed = 1
            expected.outages = 2
            expected.outageSeconds = 0.1
            #expect(shop.faultCounts == expected)
            #expect(shop.faultCounts.injected == 7)
        }
    }

    @Test("an outage plan is reproducible from its seed and stays within half to one and a half times its means")
    func outagePlan() throws {
        let services: [ShopService] = [.inventory, .payments]
        var first = try #require(OutagePlan(every: .seconds(4), length: .milliseconds(800), services: services, seed: 9))
        var second = try #require(OutagePlan(every: .seconds(4), length: .milliseconds(800), services: services, seed: 9))
        var other = try #require(OutagePlan(every: .seconds(4), length: .milliseconds(800), services: services, seed: 10))
        let outages = (0..<200).map { _ in first.next() }
        #expect(outages == (0..<200).map { _ in second.next() })
        #expect(outages != (0..<200).map { _ in other.next() })
        for outage in outages {
            #expect(outage.after >= .seconds(2) && outage.after <= .seconds(6))
            #expect(outage.length >= .milliseconds(400) && outage.length <= .milliseconds(1200))
        }
        #expect(Set(outages.map(\.service)) == Set(services))
        #expect(OutagePlan(every: .zero, length: .seconds(1), services: services, seed: 1) == nil)
        #expect(OutagePlan(every: .seconds(1), length: .seconds(1), services: [], seed: 1) == nil)
    }
}

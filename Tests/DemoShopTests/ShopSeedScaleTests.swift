import StateLang
import Testing

@testable import DemoShop

@Suite("Scaled catalogue")
struct ShopSeedScaleTests {
    @Test("scaled(by:) multiplies stock, balances and points and keeps the ids; orders keep their share of declines")
    func scaled() {
        let base = ShopSeed.standard
        let scaled = base.scaled(by: 20)
        #expect(scaled.products.map(\.id) == base.products.map(\.id))
        #expect(scaled.products.map(\.stock) == base.products.map { $0.stock * 20 })
        #expect(scaled.customers.map(\.balance) == base.customers.map { $0.balance * 20 })
        #expect(scaled.customers.map(\.points) == base.customers.map { $0.points * 20 })
        #expect(base.scaled(by: 1) == base)
        // The declines are drawn against the scaled balances: about one in ten either way.
        let balances = Dictionary(uniqueKeysWithValues: scaled.customers.map { ($0.id, $0.balance) })
        let orders = scaled.orders(count: 1000, seed: 3)
        let declined = orders.count { order in
            guard case .int(let user)? = order["userId"], case .int(let amount)? = order["amount"] else { return false }
            return amount > balances[user]!
        }
        #expect((60...140).contains(declined), "\(declined) of 1000 orders ask for more than the balance")
    }
}

import StateLang

/// The initial data of a new shop: products with stock, customers with a balance and points.
/// Written when a service's database is created; a restart keeps the existing data.
public struct ShopSeed: Sendable, Equatable {
    public struct Product: Sendable, Equatable {
        public var id: Int
        public var name: String
        /// Units in stock at the start.
        public var stock: Int

        public init(id: Int, name: String, stock: Int) {
            self.id = id
            self.name = name
            self.stock = stock
        }
    }

    public struct Customer: Sendable, Equatable {
        public var id: Int
        /// Money in whole currency units.
        public var balance: Int
        public var points: Int

        public init(id: Int, balance: Int, points: Int) {
            self.id = id
            self.balance = balance
            self.points = points
        }
    }

    public var products: [Product]
    public var customers: [Customer]

    public init(products: [Product], customers: [Customer]) {
        self.products = products
        self.customers = customers
    }

    /// Products 1…`products` with 20…200 units each; customers 1…`customers` with a balance of
    /// 100…2000 and 0…500 points. The same `seed` gives the same data.
    public static func generated(seed: UInt64, products: Int = 10, customers: Int = 100) -> ShopSeed {
        var random = SplitMix64(seed: seed)
        let productRows = (0..<max(products, 0)).map { index in
            Product(id: index + 1, name: "product-\(index + 1)", stock: Int.random(in: 20...200, using: &random))
        }
        let customerRows = (0..<max(customers, 0)).map { index in
            Customer(
                id: index + 1, balance: Int.random(in: 100...2000, using: &random),
                points: Int.random(in: 0...500, using: &random))
        }
        return ShopSeed(products: productRows, customers: customerRows)
    }

    /// The same catalogue with `factor` times the stock, balances and points: a long run's
    /// orders then keep meeting stock and money instead of mostly running out of them.
    /// A factor of 1 (or less) is this seed unchanged.
    public func scaled(by factor: Int) -> ShopSeed {
        guard factor > 1 else { return self }
        return ShopSeed(
            products: products.map { Product(id: $0.id, name: $0.name, stock: $0.stock * factor) },
            customers: customers.map { Customer(id: $0.id, balance: $0.balance * factor, points: $0.points * factor) })
    }

    /// `generated(seed: 1)`: 10 products and 100 customers; contains the customer and product
    /// of `examples/order.json`.
    public static let standard = generated(seed: 1)

    /// `count` inputs for `workflows/order-payment.yaml`
    /// (`{userId, productId, quantity, amount, points}`), drawn from this seed's catalogue.
    /// About one in ten asks for more money than the customer has, and one in ten for more
    /// points, so that some sagas compensate. The same `seed` gives the same orders.
    public func orders(count: Int, seed: UInt64) -> [JSONValue] {
        guard !products.isEmpty, !customers.isEmpty else { return [] }
        var random = SplitMix64(seed: seed)
        return (0..<max(count, 0)).map { _ in
            let customer = customers[Int.random(in: 0..<customers.count, using: &random)]
            let product = products[Int.random(in: 0..<products.count, using: &random)]
            let quantity = Int.random(in: 1...3, using: &random)
            let roll = Int.random(in: 0..<10, using: &random)
            let amount = roll == 0 ? customer.balance + 1 : Int.random(in: 5...60, using: &random) * quantity
            let points: Int
            switch Int.random(in: 0..<10, using: &random) {
            case 0: points = customer.points + 1
            case 1...4: points = 0
            default: points = Int.random(in: 0...min(customer.points, 50), using: &random)
            }
            return [
                "userId": .int(customer.id), "productId": .int(product.id), "quantity": .int(quantity),
                "amount": .int(amount), "points": .int(points),
            ]
        }
    }
}

import Foundation
import GRDB
import StateLang

/// The rows of the five databases that the checker judges, read without writing anything.
/// Read it when the services are stopped or idle: each database is read in its own
/// transaction, so requests in flight between two services could look inconsistent.
struct ShopSnapshot: Sendable {
    struct Product: Sendable {
        var id: Int, initialStock: Int, available: Int, reserved: Int, sold: Int
    }

    /// A row that an operation created: a reservation, order, payment, deduction or message.
    struct Effect: Sendable {
        var id: String
        var saga: String
        var key: String
        /// `reserved|confirmed|released`, `created|cancelled`, `captured|refunded`,
        /// `deducted|returned`, or `sent` for messages.
        var status: String
        var userID: Int?
        var productID: Int?
        var quantity: Int?
        /// Money for orders and payments, points for deductions.
        var amount: Int?
        /// For payments: the order paid.
        var orderID: String?
    }

    struct Account: Sendable {
        var userID: Int, initial: Int, current: Int
    }

    struct Reply: Sendable {
        var key: String, operation: String, saga: String, status: Int, error: String?, replays: Int
    }

    struct Tombstone: Sendable {
        var saga: String, forwardOperation: String
    }

    var products: [Product] = []
    var reservations: [Effect] = []
    var orders: [Effect] = []
    var payments: [Effect] = []
    var deductions: [Effect] = []
    var messages: [Effect] = []
    var balances: [Account] = []
    var points: [Account] = []
    var duplicateDeliveries = 0
    var replies: [ShopService: [Reply]] = [:]
    var tombstones: [ShopService: [Tombstone]] = [:]

    /// The effects of each service, by the service that made them.
    var effectsByService: [(ShopService, [Effect])] {
        [(.inventory, reservations), (.orders, orders), (.payments, payments), (.points, deductions),
         (.notifications, messages)]
    }

    static func read(directory: URL) throws -> ShopSnapshot {
        var snapshot = ShopSnapshot()
        for service in ShopService.allCases {
            let url = service.databaseURL(in: directory)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ShopCheckError(message: "there is no \(service) database at \(url.path)")
            }
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: url.path, configuration: configuration)
            try queue.read { db in try snapshot.load(service, db) }
            try queue.close()
        }
        return snapshot
    }

    private mutating func load(_ service: ShopService, _ db: Database) throws {
        replies[service] = try Row.fetchAll(
            db, sql: "SELECT idempotency_key, operation, saga_instance, status, body, replays FROM replies"
        ).map { row in
            let body: String = row["body"]
            let status: Int = row["status"]
            return Reply(
                key: row["idempotency_key"], operation: row["operation"], saga: row["saga_instance"], status: status,
                error: status >= 400 ? try JSONValue(parsing: body)["error"]?.stringValue : nil, replays: row["replays"])
        }
        tombstones[service] = try Row.fetchAll(db, sql: "SELECT saga_instance, forward_operation FROM compensations")
            .map { Tombstone(saga: $0["saga_instance"], forwardOperation: $0["forward_operation"]) }
        switch service {
        case .inventory:
            products = try Row.fetchAll(
                db, sql: "SELECT id, initial_stock, available, reserved, sold FROM products ORDER BY id"
            ).map {
                Product(
                    id: $0["id"], initialStock: $0["initial_stock"], available: $0["available"],
                    reserved: $0["reserved"], sold: $0["sold"])
            }
            reservations = try Row.fetchAll(
                db,
                sql: "SELECT seq, saga_instance, idempotency_key, status, product_id, quantity FROM reservations ORDER BY seq"
            ).map {
                Effect(
                    id: EffectID.format(EffectID.reservation, $0["seq"]), saga: $0["saga_instance"],
                    key: $0["idempotency_key"], status: $0["status"], productID: $0["product_id"],
                    quantity: $0["quantity"])
            }
        case .orders:
            orders = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, saga_instance, idempotency_key, status, user_id, product_id, quantity, amount
                    FROM orders ORDER BY seq
                    """
            ).map {
                Effect(
                    id: EffectID.format(EffectID.order, $0["seq"]), saga: $0["saga_instance"], key: $0["idempotency_key"],
                    status: $0["status"], userID: $0["user_id"], productID: $0["product_id"], quantity: $0["quantity"],
                    amount: $0["amount"])
            }
        case .payments:
            balances = try Row.fetchAll(db, sql: "SELECT user_id, initial_balance, balance FROM accounts ORDER BY user_id")
                .map { Account(userID: $0["user_id"], initial: $0["initial_balance"], current: $0["balance"]) }
            payments = try Row.fetchAll(
                db,
                sql: "SELECT seq, saga_instance, idempotency_key, status, user_id, order_id, amount FROM payments ORDER BY seq"
            ).map {
                Effect(
                    id: EffectID.format(EffectID.payment, $0["seq"]), saga: $0["saga_instance"],
                    key: $0["idempotency_key"], status: $0["status"], userID: $0["user_id"], amount: $0["amount"],
                    orderID: $0["order_id"])
            }
        case .points:
            points = try Row.fetchAll(db, sql: "SELECT user_id, initial_points, points FROM balances ORDER BY user_id")
                .map { Account(userID: $0["user_id"], initial: $0["initial_points"], current: $0["points"]) }
            deductions = try Row.fetchAll(
                db, sql: "SELECT seq, saga_instance, idempotency_key, status, user_id, points FROM deductions ORDER BY seq"
            ).map {
                Effect(
                    id: EffectID.format(EffectID.deduction, $0["seq"]), saga: $0["saga_instance"],
                    key: $0["idempotency_key"], status: $0["status"], userID: $0["user_id"], amount: $0["points"])
            }
        case .notifications:
            messages = try Row.fetchAll(
                db, sql: "SELECT seq, saga_instance, idempotency_key, user_id, order_id FROM messages ORDER BY seq"
            ).map {
                Effect(
                    id: EffectID.format(EffectID.message, $0["seq"]), saga: $0["saga_instance"],
                    key: $0["idempotency_key"], status: "sent", userID: $0["user_id"], orderID: $0["order_id"])
            }
            duplicateDeliveries = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveries WHERE duplicate != 0") ?? 0
        }
    }
}

/// The checker could not read the shop's databases.
public struct ShopCheckError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

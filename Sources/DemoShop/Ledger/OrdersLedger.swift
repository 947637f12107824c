import GRDB
import StateLang

/// Orders, one per saga in the checkout: `created` or `cancelled`. Whether an order is paid is
/// a fact of the payments service (its captures name the order); the checker joins the two.
struct OrdersLedger: ServiceLedger {
    var service: ShopService { .orders }

    func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("orders-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE orders (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        saga_instance TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        user_id INTEGER NOT NULL,
                        product_id INTEGER NOT NULL,
                        quantity INTEGER NOT NULL,
                        amount INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX orders_by_saga ON orders (saga_instance);
                    CREATE INDEX orders_by_key ON orders (idempotency_key);
                    """)
        }
    }

    /// A shop starts with no orders.
    func seed(_ seed: ShopSeed, _ db: Database) throws {}

    func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        switch request.operation {
        case .create: try create(request, now: now, db)
        case .cancel: try cancel(request, now: now, db)
        default: throw ShopRefusal.notFound("UnknownOperation", "orders has no operation '\(request.operation)'")
        }
    }

    private func create(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        let userID = try request.integer("userId")
        let productID = try request.integer("productId")
        let quantity = try request.positiveInteger("quantity")
        let amount = try request.positiveInteger("amount")
        try db.execute(
            sql: """
                INSERT INTO orders (saga_instance, idempotency_key, user_id, product_id, quantity, amount, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?)
                """,
            arguments: [request.sagaInstance, request.idempotencyKey, userID, productID, quantity, amount, now, now])
        return ["orderId": .string(EffectID.format(EffectID.order, db.lastInsertedRowID))]
    }

    /// Cancels every order the saga created; an empty compensation when it created none.
    private func cancel(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        if let named = try request.optionalString("orderId") {
            guard let seq = EffectID.parse(EffectID.order, named),
                let owner = try String.fetchOne(db, sql: "SELECT saga_instance FROM orders WHERE seq = ?", arguments: [seq])
            else { throw ShopRefusal.notFound("UnknownOrder", "there is no order '\(named)'") }
            guard owner == request.sagaInstance else {
                throw ShopRefusal.conflict(
                    "WrongSaga", "order '\(named)' belongs to saga \(owner), not \(request.sagaInstance)")
            }
        }
        let seqs = try Int64.fetchAll(
            db, sql: "SELECT seq FROM orders WHERE saga_instance = ? AND status != 'cancelled' ORDER BY seq",
            arguments: [request.sagaInstance])
        try db.execute(
            sql: "UPDATE orders SET status = 'cancelled', updated_at = ? WHERE saga_instance = ? AND status != 'cancelled'",
            arguments: [now, request.sagaInstance])
        return ["cancelled": .array(seqs.map { .string(EffectID.format(EffectID.order, $0)) })]
    }
}

import GRDB
import StateLang

/// Balances per customer and captures per order: `pay` moves money from the balance into a
/// capture, `refund` moves the saga's captures back. Money is conserved:
/// balance + captured (not refunded) = initial balance, per customer.
struct PaymentsLedger: ServiceLedger {
    var service: ShopService { .payments }

    func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("payments-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE accounts (
                        user_id INTEGER PRIMARY KEY NOT NULL,
                        initial_balance INTEGER NOT NULL,
                        balance INTEGER NOT NULL
                    );
                    CREATE TABLE payments (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        saga_instance TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        user_id INTEGER NOT NULL,
                        order_id TEXT NOT NULL,
                        amount INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX payments_by_saga ON payments (saga_instance);
                    CREATE INDEX payments_by_order ON payments (order_id);
                    CREATE INDEX payments_by_key ON payments (idempotency_key);
                    """)
        }
    }

    func seed(_ seed: ShopSeed, _ db: Database) throws {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") == 0 else { return }
        for customer in seed.customers {
            try db.execute(
                sql: "INSERT INTO accounts (user_id, initial_balance, balance) VALUES (?, ?, ?)",
                arguments: [customer.id, customer.balance, customer.balance])
        }
    }

    func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        switch request.operation {
        case .pay: try pay(request, now: now, db)
        case .refund: try refund(request, now: now, db)
        default: throw ShopRefusal.notFound("UnknownOperation", "payments has no operation '\(request.operation)'")
        }
    }

    private func pay(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        let userID = try request.integer("userId")
        let orderID = try request.string("orderId")
        let amount = try request.positiveInteger("amount")
        guard let balance = try Int.fetchOne(db, sql: "SELECT balance FROM accounts WHERE user_id = ?", arguments: [userID])
        else { throw ShopRefusal.notFound("UnknownUser", "there is no customer \(userID)") }
        if let existing = try Int64.fetchOne(
            db, sql: "SELECT seq FROM payments WHERE order_id = ? ORDER BY seq LIMIT 1", arguments: [orderID])
        {
            throw ShopRefusal.conflict(
                "OrderAlreadyPaid",
                "order '\(orderID)' already has payment '\(EffectID.format(EffectID.payment, existing))'")
        }
        guard balance >= amount else {
            throw ShopRefusal.conflict(
                "InsufficientFunds", "customer \(userID) has \(balance), the order needs \(amount)")
        }
        try db.execute(
            sql: "UPDATE accounts SET balance = balance - ? WHERE user_id = ?", arguments: [amount, userID])
        try db.execute(
            sql: """
                INSERT INTO payments (saga_instance, idempotency_key, user_id, order_id, amount, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'captured', ?, ?)
                """,
            arguments: [request.sagaInstance, request.idempotencyKey, userID, orderID, amount, now, now])
        return ["paymentId": .string(EffectID.format(EffectID.payment, db.lastInsertedRowID))]
    }

    /// Refunds every capture the saga made; an empty compensation when it made none.
    private func refund(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        if let named = try request.optionalString("paymentId") {
            guard let seq = EffectID.parse(EffectID.payment, named),
                let owner = try String.fetchOne(
                    db, sql: "SELECT saga_instance FROM payments WHERE seq = ?", arguments: [seq])
            else { throw ShopRefusal.notFound("UnknownPayment", "there is no payment '\(named)'") }
            guard owner == request.sagaInstance else {
                throw ShopRefusal.conflict(
                    "WrongSaga", "payment '\(named)' belongs to saga \(owner), not \(request.sagaInstance)")
            }
        }
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT seq, user_id, amount FROM payments WHERE saga_instance = ? AND status = 'captured' ORDER BY seq",
            arguments: [request.sagaInstance])
        var refunded: [JSONValue] = []
        var total = 0
        for row in rows {
            let amount: Int = row["amount"]
            try db.execute(
                sql: "UPDATE accounts SET balance = balance + ? WHERE user_id = ?",
                arguments: [amount, row["user_id"] as Int])
            try db.execute(
                sql: "UPDATE payments SET status = 'refunded', updated_at = ? WHERE seq = ?",
                arguments: [now, row["seq"] as Int64])
            refunded.append(.string(EffectID.format(EffectID.payment, row["seq"])))
            total += amount
        }
        return ["refunded": .array(refunded), "amount": .int(total)]
    }
}

import GRDB
import StateLang

/// Messages to customers. Every delivery attempt is logged in `deliveries`; a repeated
/// idempotency key is logged as a duplicate and creates no second message.
struct NotificationsLedger: ServiceLedger {
    var service: ShopService { .notifications }

    func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("notifications-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        saga_instance TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        user_id INTEGER NOT NULL,
                        order_id TEXT NOT NULL,
                        message TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX messages_by_saga ON messages (saga_instance);
                    CREATE INDEX messages_by_key ON messages (idempotency_key);
                    CREATE TABLE deliveries (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        idempotency_key TEXT NOT NULL,
                        saga_instance TEXT NOT NULL,
                        duplicate INTEGER NOT NULL,
                        created_at REAL NOT NULL
                    );
                    """)
        }
    }

    /// A shop starts with no messages.
    func seed(_ seed: ShopSeed, _ db: Database) throws {}

    func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        guard request.operation == .send else {
            throw ShopRefusal.notFound("UnknownOperation", "notifications has no operation '\(request.operation)'")
        }
        let userID = try request.integer("userId")
        let orderID = try request.string("orderId")
        let message = try request.string("message")
        try db.execute(
            sql: """
                INSERT INTO messages (saga_instance, idempotency_key, user_id, order_id, message, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [request.sagaInstance, request.idempotencyKey, userID, orderID, message, now])
        let seq = db.lastInsertedRowID
        try logDelivery(of: request, duplicate: false, now: now, db)
        return ["messageId": .string(EffectID.format(EffectID.message, seq))]
    }

    func recordReplay(of request: OperationRequest, storedReply: ShopReply, now: Double, _ db: Database) throws {
        try logDelivery(of: request, duplicate: true, now: now, db)
    }

    private func logDelivery(of request: OperationRequest, duplicate: Bool, now: Double, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO deliveries (idempotency_key, saga_instance, duplicate, created_at) VALUES (?, ?, ?, ?)",
            arguments: [request.idempotencyKey, request.sagaInstance, duplicate, now])
    }
}

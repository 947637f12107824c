import GRDB
import StateLang

/// Stock per product: `available` + `reserved` + `sold` = `initial_stock`. A reservation moves
/// units from available to reserved; `confirm` moves them to sold; `release` returns reserved
/// or sold units of a saga to available.
struct InventoryLedger: ServiceLedger {
    var service: ShopService { .inventory }

    func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("inventory-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE products (
                        id INTEGER PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        initial_stock INTEGER NOT NULL,
                        available INTEGER NOT NULL,
                        reserved INTEGER NOT NULL DEFAULT 0,
                        sold INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE reservations (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        saga_instance TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        product_id INTEGER NOT NULL,
                        quantity INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX reservations_by_saga ON reservations (saga_instance);
                    CREATE INDEX reservations_by_key ON reservations (idempotency_key);
                    """)
        }
    }

    func seed(_ seed: ShopSeed, _ db: Database) throws {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM products") == 0 else { return }
        for product in seed.products {
            try db.execute(
                sql: "INSERT INTO products (id, name, initial_stock, available) VALUES (?, ?, ?, ?)",
                arguments: [product.id, product.name, product.stock, product.stock])
        }
    }

    func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        switch request.operation {
        case .reserve: try reserve(request, now: now, db)
        case .confirm: try confirm(request, now: now, db)
        case .release: try release(request, now: now, db)
        default: throw ShopRefusal.notFound("UnknownOperation", "inventory has no operation '\(request.operation)'")
        }
    }

    private func reserve(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        let productID = try request.integer("productId")
        let quantity = try request.positiveInteger("quantity")
        guard let available = try Int.fetchOne(db, sql: "SELECT available FROM products WHERE id = ?", arguments: [productID])
        else { throw ShopRefusal.notFound("UnknownProduct", "there is no product \(productID)") }
        guard available >= quantity else {
            throw ShopRefusal.conflict(
                "OutOfStock", "product \(productID) has \(available) available, \(quantity) requested")
        }
        try db.execute(
            sql: "UPDATE products SET available = available - ?, reserved = reserved + ? WHERE id = ?",
            arguments: [quantity, quantity, productID])
        try db.execute(
            sql: """
                INSERT INTO reservations (saga_instance, idempotency_key, product_id, quantity, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'reserved', ?, ?)
                """,
            arguments: [request.sagaInstance, request.idempotencyKey, productID, quantity, now, now])
        return ["reservationId": .string(EffectID.format(EffectID.reservation, db.lastInsertedRowID))]
    }

    private func confirm(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        let reservationID = try request.string("reservationId")
        let row = try reservation(reservationID, of: request, db)
        let seq: Int64 = row["seq"]
        switch row["status"] as String {
        case "reserved":
            try db.execute(
                sql: "UPDATE products SET reserved = reserved - ?, sold = sold + ? WHERE id = ?",
                arguments: [row["quantity"] as Int, row["quantity"] as Int, row["product_id"] as Int])
            try db.execute(
                sql: "UPDATE reservations SET status = 'confirmed', updated_at = ? WHERE seq = ?", arguments: [now, seq])
        case "confirmed":
            break
        default:
            throw ShopRefusal.alreadyCompensated(.reserve, saga: request.sagaInstance)
        }
        return ["reservationId": .string(reservationID), "status": "confirmed"]
    }

    /// Undoes every reservation the saga made (reserved or already sold); an empty
    /// compensation when it made none.
    private func release(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        if let named = try request.optionalString("reservationId") {
            _ = try reservation(named, of: request, db)
        }
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT seq, product_id, quantity, status FROM reservations WHERE saga_instance = ? AND status != 'released' ORDER BY seq",
            arguments: [request.sagaInstance])
        var released: [JSONValue] = []
        for row in rows {
            let quantity: Int = row["quantity"]
            let column = (row["status"] as String) == "confirmed" ? "sold" : "reserved"
            try db.execute(
                sql: "UPDATE products SET \(column) = \(column) - ?, available = available + ? WHERE id = ?",
                arguments: [quantity, quantity, row["product_id"] as Int])
            try db.execute(
                sql: "UPDATE reservations SET status = 'released', updated_at = ? WHERE seq = ?",
                arguments: [now, row["seq"] as Int64])
            released.append(.string(EffectID.format(EffectID.reservation, row["seq"])))
        }
        return ["released": .array(released)]
    }

    /// The reservation named `id`, which must belong to the request's saga.
    private func reservation(_ id: String, of request: OperationRequest, _ db: Database) throws -> Row {
        guard let seq = EffectID.parse(EffectID.reservation, id),
            let row = try Row.fetchOne(
                db, sql: "SELECT seq, saga_instance, product_id, quantity, status FROM reservations WHERE seq = ?",
                arguments: [seq])
        else { throw ShopRefusal.notFound("UnknownReservation", "there is no reservation '\(id)'") }
        let owner: String = row["saga_instance"]
        guard owner == request.sagaInstance else {
            throw ShopRefusal.conflict(
                "WrongSaga", "reservation '\(id)' belongs to saga \(owner), not \(request.sagaInstance)")
        }
        return row
    }
}

import GRDB
import StateLang

/// Loyalty points per customer: `deduct` takes points for an order, `return` gives back what
/// the saga took. Points are conserved: points + deducted (not returned) = initial points.
struct PointsLedger: ServiceLedger {
    var service: ShopService { .points }

    func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("points-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE balances (
                        user_id INTEGER PRIMARY KEY NOT NULL,
                        initial_points INTEGER NOT NULL,
                        points INTEGER NOT NULL
                    );
                    CREATE TABLE deductions (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        saga_instance TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        user_id INTEGER NOT NULL,
                        points INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE INDEX deductions_by_saga ON deductions (saga_instance);
                    CREATE INDEX deductions_by_key ON deductions (idempotency_key);
                    """)
        }
    }

    func seed(_ seed: ShopSeed, _ db: Database) throws {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM balances") == 0 else { return }
        for customer in seed.customers {
            try db.execute(
                sql: "INSERT INTO balances (user_id, initial_points, points) VALUES (?, ?, ?)",
                arguments: [customer.id, customer.points, customer.points])
        }
    }

    func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        switch request.operation {
        case .deduct: try deduct(request, now: now, db)
        case .return: try giveBack(request, now: now, db)
        default: throw ShopRefusal.notFound("UnknownOperation", "points has no operation '\(request.operation)'")
        }
    }

    private func deduct(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        let userID = try request.integer("userId")
        let points = try request.positiveInteger("points")
        guard let balance = try Int.fetchOne(db, sql: "SELECT points FROM balances WHERE user_id = ?", arguments: [userID])
        else { throw ShopRefusal.notFound("UnknownUser", "there is no customer \(userID)") }
        guard balance >= points else {
            throw ShopRefusal.conflict(
                "InsufficientPoints", "customer \(userID) has \(balance) points, the order uses \(points)")
        }
        try db.execute(sql: "UPDATE balances SET points = points - ? WHERE user_id = ?", arguments: [points, userID])
        try db.execute(
            sql: """
                INSERT INTO deductions (saga_instance, idempotency_key, user_id, points, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'deducted', ?, ?)
                """,
            arguments: [request.sagaInstance, request.idempotencyKey, userID, points, now, now])
        return ["deductionId": .string(EffectID.format(EffectID.deduction, db.lastInsertedRowID))]
    }

    /// Returns every deduction the saga made; an empty compensation when it made none.
    private func giveBack(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT seq, user_id, points FROM deductions WHERE saga_instance = ? AND status = 'deducted' ORDER BY seq",
            arguments: [request.sagaInstance])
        var returned: [JSONValue] = []
        var total = 0
        for row in rows {
            let points: Int = row["points"]
            try db.execute(
                sql: "UPDATE balances SET points = points + ? WHERE user_id = ?",
                arguments: [points, row["user_id"] as Int])
            try db.execute(
                sql: "UPDATE deductions SET status = 'returned', updated_at = ? WHERE seq = ?",
                arguments: [now, row["seq"] as Int64])
            returned.append(.string(EffectID.format(EffectID.deduction, row["seq"])))
            total += points
        }
        return ["returned": .array(returned), "points": .int(total)]
    }
}

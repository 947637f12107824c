import Foundation
import GRDB
import StateLang

/// One service's SQLite file (WAL, `synchronous=FULL`) and the idempotent execution of its
/// operations: every request runs in one write transaction that
/// 1. returns the stored reply when the `Idempotency-Key` was seen before (no second effect);
/// 2. refuses a forward operation whose saga already ran the matching compensation
///    (`409 AlreadyCompensated`: no hanging);
/// 3. applies the operation, and for a compensation records a tombstone
///    `(saga instance, forward operation)` even when there was nothing to undo (empty
///    compensation);
/// 4. stores the reply (a success or a refusal) under the key.
/// Because the effect and its reply commit together, a crash or a dropped reply can never
/// leave an effect that a retry would apply again.
final class ServiceDatabase: Sendable {
    let ledger: any ServiceLedger
    let path: String
    private let pool: DatabasePool

    var service: ShopService { ledger.service }

    /// Opens (creating if needed) the database file, migrates it and seeds it when new.
    init(ledger: any ServiceLedger, directory: URL, seed: ShopSeed) throws {
        self.ledger = ledger
        self.path = ledger.service.databaseURL(in: directory).path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "shop.\(ledger.service)"
        pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool sets synchronous=NORMAL while it enables WAL; an acknowledged effect
        // must survive power loss like the saga store's checkpoints do.
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("common-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE replies (
                        idempotency_key TEXT PRIMARY KEY NOT NULL,
                        operation TEXT NOT NULL,
                        saga_instance TEXT NOT NULL,
                        saga_state TEXT,
                        status INTEGER NOT NULL,
                        body TEXT NOT NULL,
                        replays INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE compensations (
                        saga_instance TEXT NOT NULL,
                        forward_operation TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (saga_instance, forward_operation)
                    );
                    """)
        }
        ledger.registerMigrations(&migrator)
        try migrator.migrate(pool)
        try pool.write { try ledger.seed(seed, $0) }
    }

    /// Runs one request to completion. Throws only for database failures (the caller answers
    /// 500); refusals are replies.
    func handle(_ request: OperationRequest, now: Double = Date().timeIntervalSince1970) async throws -> ShopReply {
        try await pool.write { db in try self.apply(request, now: now, db) }
    }

    /// Closes the database connections; later requests fail.
    func close() throws {
        try pool.close()
    }

    private func apply(_ request: OperationRequest, now: Double, _ db: Database) throws -> ShopReply {
        if let row = try Row.fetchOne(
            db, sql: "SELECT operation, saga_instance, status, body FROM replies WHERE idempotency_key = ?",
            arguments: [request.idempotencyKey])
        {
            let operation: String = row["operation"]
            let saga: String = row["saga_instance"]
            guard operation == request.operation.rawValue, saga == request.sagaInstance else {
                return ShopReply(
                    ShopRefusal(
                        status: 422, code: "IdempotencyKeyReused",
                        message: "key '\(request.idempotencyKey)' was first used by '\(operation)' of saga \(saga), "
                            + "not '\(request.operation)' of saga \(request.sagaInstance)"))
            }
            let stored = ShopReply(status: row["status"], body: try JSONValue(parsing: row["body"] as String))
            try db.execute(
                sql: "UPDATE replies SET replays = replays + 1 WHERE idempotency_key = ?",
                arguments: [request.idempotencyKey])
            try ledger.recordReplay(of: request, storedReply: stored, now: now, db)
            return stored
        }

        var reply = ShopReply(status: 500, body: .null)
        try db.inSavepoint {
            do {
                reply = .success(try perform(request, now: now, db))
                return .commit
            } catch let refusal as ShopRefusal {
                reply = ShopReply(refusal)
                return .rollback
            }
        }
        try db.execute(
            sql: """
                INSERT INTO replies (idempotency_key, operation, saga_instance, saga_state, status, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                request.idempotencyKey, request.operation.rawValue, request.sagaInstance, request.sagaState,
                reply.status, reply.body.jsonString(), now,
            ])
        return reply
    }

    private func perform(_ request: OperationRequest, now: Double, _ db: Database) throws -> JSONValue {
        if let forward = request.operation.undoes {
            let result = try ledger.perform(request, now: now, db)
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO compensations (saga_instance, forward_operation, idempotency_key, created_at)
                    VALUES (?, ?, ?, ?)
                    """,
                arguments: [request.sagaInstance, forward.rawValue, request.idempotencyKey, now])
            return result
        }
        if request.operation.undoneBy != nil,
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM compensations WHERE saga_instance = ? AND forward_operation = ?)",
                arguments: [request.sagaInstance, request.operation.rawValue]) == true
        {
            throw ShopRefusal.alreadyCompensated(request.operation, saga: request.sagaInstance)
        }
        return try ledger.perform(request, now: now, db)
    }
}

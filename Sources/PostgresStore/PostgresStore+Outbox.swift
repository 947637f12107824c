import Foundation
import Interpreter
import PostgresNIO
import StateLang

/// The transactional outbox (DESIGN §6) on PostgreSQL: the same semantics as the SQLite store.
enum OutboxSQL {
    static let columnNames = [
        "id", "instance_id", "step_seq", "definition_fingerprint", "state_name", "service_name", "service_method",
        "service_type", "input", "status", "attempts", "max_attempts", "next_attempt_at", "error_name",
        "error_message", "error_state", "created_at", "delivered_at", "lease_owner", "lease_expires_at",
    ]
    static let columns = columnNames.joined(separator: ", ")
    static let insertIfNew = """
        INSERT INTO outbox (\(columns)) VALUES (\((1...20).map { "$\($0)" }.joined(separator: ", ")))
        ON CONFLICT (id) DO NOTHING
        """
    /// $1 now, $2 dead owners, $3 new owner, $4 lease expiry, $5 limit.
    static let claim = """
        WITH picked AS (
            SELECT id FROM outbox
            WHERE status = 'pending' AND next_attempt_at <= $1
              AND (lease_owner IS NULL OR lease_expires_at < $1 OR lease_owner = ANY($2))
            ORDER BY next_attempt_at, id
            LIMIT $5
            FOR UPDATE SKIP LOCKED)
        UPDATE outbox AS o SET lease_owner = $3, lease_expires_at = $4
        FROM picked WHERE o.id = picked.id
        RETURNING \(columnNames.map { "o.\($0)" }.joined(separator: ", "))
        """
    static let finish = """
        UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, error_name = $4, error_message = $5,
        error_state = $6, delivered_at = $7, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = $8 AND lease_owner = $9 RETURNING id
        """
    static let list = "SELECT \(columns) FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"
    static let listByStatus = "SELECT \(columns) FROM outbox WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    static let byID = "SELECT \(columns) FROM outbox WHERE id = $1"
    static let retry = """
        UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, error_name = NULL,
        error_message = NULL, error_state = NULL WHERE id = $2 AND status = 'failed' RETURNING \(columns)
        """
}

extension OutboxMessage {
    /// All columns, in `OutboxSQL.columns` order.
    var insertCells: [SQLCell] {
        [
            .text(id), .text(instanceID), .int(stepSeq), .text(definitionFingerprint), .text(stateName),
            .text(serviceName), .text(serviceMethod), .text(serviceType), .text(input.jsonString()),
            .text(status.rawValue), .int(attempts), .int(maxAttempts), .double(nextAttemptAt.timeIntervalSince1970),
            .text(lastError?.name), .text(lastError?.message), .text(lastError?.state),
            .double(createdAt.timeIntervalSince1970), .double(deliveredAt?.timeIntervalSince1970),
            .text(leaseOwner?.description), .double(leaseExpiresAt?.timeIntervalSince1970),
        ]
    }

    init(row: PostgresRow) throws {
        var r = RowReader(row)
        let id: String = try r.next()
        let what = "outbox message \(id)"
        let instanceID: String = try r.next()
        let stepSeq: Int = try r.next()
        let fingerprint: String = try r.next()
        let stateName: String = try r.next()
        let serviceName: String = try r.next()
        let serviceMethod: String = try r.next()
        let serviceType: String? = try r.next()
        let input = try r.nextJSON(what)
        let status: OutboxStatus = try r.nextEnum(what)
        let attempts: Int = try r.next()
        let maxAttempts: Int = try r.next()
        guard let nextAttemptAt = try r.nextDate() else { throw UnreadableRow(message: "\(what) has no next_attempt_at") }
        let lastError = try r.nextFailure()
        guard let createdAt = try r.nextDate() else { throw UnreadableRow(message: "\(what) has no created_at") }
        let deliveredAt = try r.nextDate()
        let leaseOwner = try r.nextLeaseOwner(what)
        let leaseExpiresAt = try r.nextDate()
        self.init(id: id, instanceID: instanceID, stepSeq: stepSeq, definitionFingerprint: fingerprint,
                  stateName: stateName, serviceName: serviceName, serviceMethod: serviceMethod, serviceType: serviceType,
                  input: input, status: status, attempts: attempts, maxAttempts: maxAttempts,
                  nextAttemptAt: nextAttemptAt, lastError: lastError, createdAt: createdAt, deliveredAt: deliveredAt,
                  leaseOwner: leaseOwner, leaseExpiresAt: leaseExpiresAt)
    }
}

extension PostgresStore {
    public func claimOutbox(owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int)
        async throws -> [OutboxMessage]
    {
        guard limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(now.timeIntervalSince1970)
        binds.append(deadOwners.map(\.description))
        binds.append(owner.description)
        binds.append(leaseUntil.timeIntervalSince1970)
        binds.append(limit)
        let claimed = try await fetch(PostgresQuery(unsafeSQL: OutboxSQL.claim, binds: binds), OutboxMessage.init(row:))
        return claimed.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    public func finishOutbox(_ message: OutboxMessage, owner: LeaseOwner) async throws -> Bool {
        var binds = PostgresBindings()
        binds.append(message.status.rawValue)
        binds.append(message.attempts)
        binds.append(message.nextAttemptAt.timeIntervalSince1970)
        binds.append(message.lastError?.name)
        binds.append(message.lastError?.message)
        binds.append(message.lastError?.state)
        binds.append(message.deliveredAt?.timeIntervalSince1970)
        binds.append(message.id)
        binds.append(owner.description)
        let rows = try await fetch(PostgresQuery(unsafeSQL: OutboxSQL.finish, binds: binds)) { _ in () }
        return rows.count == 1
    }

    public func listOutbox(status: OutboxStatus?, limit: Int) async throws -> [OutboxMessage] {
        var binds = PostgresBindings()
        if let status {
            binds.append(status.rawValue)
            binds.append(limit)
            return try await fetch(PostgresQuery(unsafeSQL: OutboxSQL.listByStatus, binds: binds), OutboxMessage.init(row:))
        }
        binds.append(limit)
        return try await fetch(PostgresQuery(unsafeSQL: OutboxSQL.list, binds: binds), OutboxMessage.init(row:))
    }

    public func retryOutbox(id: String, now: Date) async throws -> OutboxMessage? {
        var lookup = PostgresBindings()
        lookup.append(id)
        guard let current = try await fetch(PostgresQuery(unsafeSQL: OutboxSQL.byID, binds: lookup), OutboxMessage.init(row:)).first
        else { return nil }
        guard current.status == .failed else {
            throw StoreError.failure("outbox message \(id) is \(current.status.rawValue); only failed messages can be retried")
        }
        var binds = PostgresBindings()
        binds.append(now.timeIntervalSince1970)
        binds.append(id)
        return try await fetch(PostgresQuery(unsafeSQL: OutboxSQL.retry, binds: binds), OutboxMessage.init(row:)).first
    }
}

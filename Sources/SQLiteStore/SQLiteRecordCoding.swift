import Foundation
import GRDB
import Interpreter
import StateLang

/// A stored row this build cannot read back (a damaged file, or a value written by hand).
struct UnreadableRow: Error {
    var message: String
}

// MARK: - Instances

enum InstanceSQL {
    /// Every column, in the order of `InstanceRecord.init(row:)` and `insertRow`.
    static let columns = """
        id, definition_fingerprint, workflow_name, business_key, parent_id, parent_step_seq, status, \
        forward_status, compensation_status, input, context, cursor, failure_name, failure_message, \
        failure_state, lease_owner, lease_expires_at, wake_at, created_at, updated_at, ended_at
        """
    static let insert = "INSERT INTO instances (\(columns)) VALUES (\(placeholders(21)))"
    /// The fenced update of `apply`: only the fields a transition may change (the lease only
    /// to release it when the instance finishes), and only while the lease owner is still the
    /// one the transition names (`IS` also matches NULL).
    static let update = """
        UPDATE instances SET status = ?, forward_status = ?, compensation_status = ?, context = ?, cursor = ?, \
        failure_name = ?, failure_message = ?, failure_state = ?, wake_at = ?, \
        updated_at = ?, ended_at = ?, lease_expires_at = CASE WHEN ? THEN ? ELSE lease_expires_at END \
        WHERE id = ? AND lease_owner IS ?
        """
    /// `update` for a transition that leaves `status` and `wake_at` as they are, with the same
    /// arguments (numbered parameters). Those two are the only updated columns that indexes
    /// use; SQLite rewrites the entries of every index whose columns are in the SET list, even
    /// to the same values, which cost two more pages through the WAL on every transition.
    /// Changes no row when either differs (or the fence holds it back): then `update` runs.
    static let updateKeepingIndexed = """
        UPDATE instances SET forward_status = ?2, compensation_status = ?3, context = ?4, cursor = ?5, \
        failure_name = ?6, failure_message = ?7, failure_state = ?8, \
        updated_at = ?10, ended_at = ?11, lease_expires_at = CASE WHEN ?12 THEN ?13 ELSE lease_expires_at END \
        WHERE id = ?14 AND lease_owner IS ?15 AND status = ?1 AND wake_at IS ?9
        """
    static let byID = "SELECT \(columns) FROM instances WHERE id = ?"
    static let byBusinessKey = "SELECT \(columns) FROM instances WHERE business_key = ?"
    static let leaseOwnerByID = "SELECT lease_owner FROM instances WHERE id = ?"
    /// The instances nobody holds a live lease on, as `claim` and `acquire` define it.
    /// Parameters: now, dead owners (a JSON array of `LeaseOwner.description`).
    static let isFree = """
        (lease_owner IS NULL OR lease_expires_at < ?1 OR lease_owner IN (SELECT value FROM json_each(?2)))
        """
    static let live = "status IN ('running', 'compensating')"
}

func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

extension InstanceRecord {
    /// All columns, in `InstanceSQL.columns` order.
    var insertRow: SQLiteRow {
        var row = SQLiteRow(capacity: 21)
        row.append(id)
        row.append(definitionFingerprint)
        row.append(workflowName)
        row.append(businessKey)
        row.append(parentID)
        row.append(parentStepSeq)
        row.append(status.rawValue)
        row.append(forwardStatus.rawValue)
        row.append(compensationStatus?.rawValue)
        row.append(input.jsonString())
        row.append(context.jsonString())
        row.append(cursor)
        row.append(failure?.name)
        row.append(failure?.message)
        row.append(failure?.state)
        row.append(leaseOwner?.description)
        row.append(leaseExpiresAt)
        row.append(wakeAt)
        row.append(createdAt)
        row.append(updatedAt)
        row.append(endedAt)
        return row
    }

    /// The arguments of `InstanceSQL.update`.
    var updateRow: SQLiteRow {
        var row = SQLiteRow(capacity: 15)
        row.append(status.rawValue)
        row.append(forwardStatus.rawValue)
        row.append(compensationStatus?.rawValue)
        row.append(context.jsonString())
        row.append(cursor)
        row.append(failure?.name)
        row.append(failure?.message)
        row.append(failure?.state)
        row.append(wakeAt)
        row.append(updatedAt)
        row.append(endedAt)
        row.append(status.isTerminal)
        row.append(updatedAt)
        row.append(id)
        row.append(leaseOwner?.description)
        return row
    }

    /// Reads a row selected with `InstanceSQL.columns`.
    init(row: Row) throws {
        let id: String = try row.decode(atIndex: 0)
        let what = "instance \(id)"
        self.init(
            id: id,
            definitionFingerprint: try row.decode(atIndex: 1),
            workflowName: try row.decode(atIndex: 2),
            businessKey: try row.decode(atIndex: 3),
            parentID: try row.decode(atIndex: 4),
            parentStepSeq: try row.decode(atIndex: 5),
            status: try decodeEnum(row, 6, what),
            forwardStatus: try decodeEnum(row, 7, what),
            compensationStatus: try decodeOptionalEnum(row, 8, what),
            input: try decodeJSON(row, 9, what),
            context: try decodeJSON(row, 10, what),
            cursor: try row.decode(atIndex: 11),
            failure: try decodeFailure(row, 12),
            leaseOwner: try decodeLeaseOwner(row, 15, what),
            leaseExpiresAt: try decodeDate(row, 16),
            wakeAt: try decodeDate(row, 17),
            createdAt: try decodeDate(row, 18) ?? missing("created_at", what),
            updatedAt: try decodeDate(row, 19) ?? missing("updated_at", what),
            endedAt: try decodeDate(row, 20))
    }
}

// MARK: - Steps

enum StepSQL {
    static let columns = """
        instance_id, seq, state_name, phase, compensated_seq, retried_seq, attempt, status, is_for_update, \
        input, output, failure_name, failure_message, failure_state, idempotency_key, child_instance_id, \
        started_at, ended_at, retry_at, executor
        """
    /// Insert, or replace every column of the row with the same (instance_id, seq).
    static let upsert = """
        INSERT INTO steps (\(columns)) VALUES (\(placeholders(20)))
        ON CONFLICT (instance_id, seq) DO UPDATE SET state_name = excluded.state_name, phase = excluded.phase,
        compensated_seq = excluded.compensated_seq, retried_seq = excluded.retried_seq, attempt = excluded.attempt,
        status = excluded.status, is_for_update = excluded.is_for_update, input = excluded.input,
        output = excluded.output, failure_name = excluded.failure_name, failure_message = excluded.failure_message,
        failure_state = excluded.failure_state, idempotency_key = excluded.idempotency_key,
        child_instance_id = excluded.child_instance_id, started_at = excluded.started_at,
        ended_at = excluded.ended_at, retry_at = excluded.retry_at, executor = excluded.executor
        """
    static let ofInstance = "SELECT \(columns) FROM steps WHERE instance_id = ? ORDER BY seq"
}

extension StepRecord {
    /// The arguments of `StepSQL.upsert`, in `StepSQL.columns` order.
    var upsertRow: SQLiteRow {
        var row = SQLiteRow(capacity: 20)
        row.append(instanceID)
        row.append(seq)
        row.append(stateName)
        row.append(phase.rawValue)
        row.append(compensatedSeq)
        row.append(retriedSeq)
        row.append(attempt)
        row.append(status.rawValue)
        row.append(isForUpdate)
        row.append(input.jsonString())
        row.append(output?.jsonString())
        row.append(failure?.name)
        row.append(failure?.message)
        row.append(failure?.state)
        row.append(idempotencyKey)
        row.append(childInstanceID)
        row.append(startedAt)
        row.append(endedAt)
        row.append(retryAt)
        row.append(executor?.description)
        return row
    }

    init(row: Row) throws {
        let instanceID: String = try row.decode(atIndex: 0)
        let seq: Int = try row.decode(atIndex: 1)
        let what = "step \(seq) of instance \(instanceID)"
        self.init(
            instanceID: instanceID,
            seq: seq,
            stateName: try row.decode(atIndex: 2),
            phase: try decodeEnum(row, 3, what),
            compensatedSeq: try row.decode(atIndex: 4),
            retriedSeq: try row.decode(atIndex: 5),
            attempt: try row.decode(atIndex: 6),
            status: try decodeEnum(row, 7, what),
            isForUpdate: try row.decode(atIndex: 8),
            input: try decodeJSON(row, 9, what),
            // Not `? nil :`: JSONValue is ExpressibleByNilLiteral, so that `nil` would be `.null`.
            output: row.hasNull(atIndex: 10) ? JSONValue?.none : try decodeJSON(row, 10, what),
            failure: try decodeFailure(row, 11),
            idempotencyKey: try row.decode(atIndex: 14),
            childInstanceID: try row.decode(atIndex: 15),
            startedAt: try decodeDate(row, 16) ?? missing("started_at", what),
            endedAt: try decodeDate(row, 17),
            retryAt: try decodeDate(row, 18),
            executor: try decodeLeaseOwner(row, 19, what))
    }
}

// MARK: - Outbox

enum OutboxSQL {
    static let columns = """
        id, instance_id, step_seq, definition_fingerprint, state_name, service_name, service_method, service_type, \
        input, status, attempts, max_attempts, next_attempt_at, error_name, error_message, error_state, created_at, \
        delivered_at, lease_owner, lease_expires_at
        """
    /// Written with the checkpoint; a replayed transition leaves an existing message alone.
    static let insertIfNew = "INSERT INTO outbox (\(columns)) VALUES (\(placeholders(20))) ON CONFLICT (id) DO NOTHING"
    /// ?1 now, ?2 dead owners, ?3 new owner, ?4 lease expiry, ?5 limit.
    static let claim = """
        UPDATE outbox SET lease_owner = ?3, lease_expires_at = ?4
        WHERE id IN (
            SELECT id FROM outbox INDEXED BY outbox_due
            WHERE status = 'pending' AND next_attempt_at <= ?1
              AND (lease_owner IS NULL OR lease_expires_at < ?1 OR lease_owner IN (SELECT value FROM json_each(?2)))
            ORDER BY next_attempt_at, id LIMIT ?5)
        RETURNING \(columns)
        """
    static let finish = """
        UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, error_name = ?, error_message = ?, \
        error_state = ?, delivered_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?
        """
    static let list = "SELECT \(columns) FROM outbox ORDER BY created_at DESC, id DESC LIMIT ?"
    static let listByStatus = "SELECT \(columns) FROM outbox WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?"
    static let byID = "SELECT \(columns) FROM outbox WHERE id = ?"
    static let retry = """
        UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, error_name = NULL, \
        error_message = NULL, error_state = NULL WHERE id = ? RETURNING \(columns)
        """
}

extension OutboxMessage {
    /// The arguments of `OutboxSQL.insertIfNew`, in `OutboxSQL.columns` order.
    var insertRow: SQLiteRow {
        var row = SQLiteRow(capacity: 20)
        row.append(id)
        row.append(instanceID)
        row.append(stepSeq)
        row.append(definitionFingerprint)
        row.append(stateName)
        row.append(serviceName)
        row.append(serviceMethod)
        row.append(serviceType)
        row.append(input.jsonString())
        row.append(status.rawValue)
        row.append(attempts)
        row.append(maxAttempts)
        row.append(nextAttemptAt)
        row.append(lastError?.name)
        row.append(lastError?.message)
        row.append(lastError?.state)
        row.append(createdAt)
        row.append(deliveredAt)
        row.append(leaseOwner?.description)
        row.append(leaseExpiresAt)
        return row
    }

    init(row: Row) throws {
        let id: String = try row.decode(atIndex: 0)
        let what = "outbox message \(id)"
        self.init(
            id: id, instanceID: try row.decode(atIndex: 1), stepSeq: try row.decode(atIndex: 2),
            definitionFingerprint: try row.decode(atIndex: 3), stateName: try row.decode(atIndex: 4),
            serviceName: try row.decode(atIndex: 5), serviceMethod: try row.decode(atIndex: 6),
            serviceType: try row.decode(atIndex: 7), input: try decodeJSON(row, 8, what),
            status: try decodeEnum(row, 9, what), attempts: try row.decode(atIndex: 10),
            maxAttempts: try row.decode(atIndex: 11),
            nextAttemptAt: try decodeDate(row, 12) ?? missing("next_attempt_at", what),
            lastError: try decodeFailure(row, 13),
            createdAt: try decodeDate(row, 16) ?? missing("created_at", what),
            deliveredAt: try decodeDate(row, 17),
            leaseOwner: try decodeLeaseOwner(row, 18, what),
            leaseExpiresAt: try decodeDate(row, 19))
    }
}

// MARK: - Definitions

enum DefinitionSQL {
    static let insertIfNew = """
        INSERT INTO definitions (fingerprint, name, path, source, created_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (fingerprint) DO NOTHING
        """
    static let byFingerprint = "SELECT fingerprint, name, path, source, created_at FROM definitions WHERE fingerprint = ?"
    static let exists = "SELECT 1 FROM definitions WHERE fingerprint = ?"
}

extension StoredDefinition {
    var insertArguments: StatementArguments {
        [fingerprint, name, path, source, createdAt.timeIntervalSince1970]
    }

    init(row: Row) throws {
        let fingerprint: String = try row.decode(atIndex: 0)
        self.init(
            fingerprint: fingerprint, name: try row.decode(atIndex: 1), path: try row.decode(atIndex: 2),
            source: try row.decode(atIndex: 3),
            createdAt: try decodeDate(row, 4) ?? missing("created_at", "definition \(fingerprint)"))
    }
}

// MARK: - Column decoding

func decodeDate(_ row: Row, _ index: Int) throws -> Date? {
    let seconds: Double? = try row.decode(atIndex: index)
    return seconds.map { Date(timeIntervalSince1970: $0) }
}

func missing<T>(_ column: String, _ what: String) throws -> T {
    throw UnreadableRow(message: "\(what) has no \(column)")
}

func decodeEnum<E: RawRepresentable>(_ row: Row, _ index: Int, _ what: String) throws -> E
where E.RawValue == String {
    let text: String = try row.decode(atIndex: index)
    guard let value = E(rawValue: text) else {
        throw UnreadableRow(message: "\(what) has an unknown \(E.self) '\(text)'")
    }
    return value
}

private func decodeOptionalEnum<E: RawRepresentable>(_ row: Row, _ index: Int, _ what: String) throws -> E?
where E.RawValue == String {
    try row.hasNull(atIndex: index) ? nil : decodeEnum(row, index, what) as E
}

func decodeJSON(_ row: Row, _ index: Int, _ what: String) throws -> JSONValue {
    let text: String = try row.decode(atIndex: index)
    do {
        return try JSONValue(parsing: text)
    } catch {
        throw UnreadableRow(message: "\(what) holds invalid JSON (\(error))")
    }
}

/// Three columns from `index`: name, message, state; no failure when the name is NULL.
func decodeFailure(_ row: Row, _ index: Int) throws -> FailureRecord? {
    guard let name: String = try row.decode(atIndex: index) else { return nil }
    return FailureRecord(
        name: name, message: try row.decode(atIndex: index + 1), state: try row.decode(atIndex: index + 2))
}

func decodeLeaseOwner(_ row: Row, _ index: Int, _ what: String) throws -> LeaseOwner? {
    guard let text: String = try row.decode(atIndex: index) else { return nil }
    guard let owner = LeaseOwner(parsing: text) else {
        throw UnreadableRow(message: "\(what) has an unreadable lease owner '\(text)'")
    }
    return owner
}

func parseLeaseOwner(_ text: String) throws -> LeaseOwner {
    guard let owner = LeaseOwner(parsing: text) else {
        throw UnreadableRow(message: "unreadable lease owner '\(text)'")
    }
    return owner
}

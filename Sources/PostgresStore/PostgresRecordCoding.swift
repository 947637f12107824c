import Foundation
import Interpreter
import PostgresNIO
import StateLang

/// A stored row this build cannot read back (edited by hand, or written by something else).
struct UnreadableRow: Error {
    var message: String
}

// MARK: - Instances

enum InstanceSQL {
    static let columnNames = [
        "id", "definition_fingerprint", "workflow_name", "business_key", "parent_id", "parent_step_seq", "status",
        "forward_status", "compensation_status", "input", "context", "cursor", "failure_name", "failure_message",
        "failure_state", "lease_owner", "lease_expires_at", "wake_at", "created_at", "updated_at", "ended_at",
    ]
    /// Every column, in the order of `InstanceRecord.init(row:)` and `insertCells`.
    static let columns = columnNames.joined(separator: ", ")
    /// The same, qualified with `alias.` (for an UPDATE … FROM).
    static func columns(qualifiedBy alias: String) -> String {
        columnNames.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// Inserts unless the business key is taken (then nothing, and no row returned); a taken
    /// id is still an error (`instances_pkey`).
    static let insert = """
        INSERT INTO instances (\(columns)) VALUES (\(placeholders(1...21)))
        ON CONFLICT (business_key) DO NOTHING RETURNING 1
        """
    /// The fenced update of `apply`: only the fields a transition may change (the lease only
    /// to release it when the instance finishes), and only while the lease owner is still the
    /// one the transition names (`IS NOT DISTINCT FROM` also matches NULL).
    static let update = """
        UPDATE instances SET status = $1, forward_status = $2, compensation_status = $3, context = $4, \
        cursor = $5, failure_name = $6, failure_message = $7, failure_state = $8, wake_at = $9, \
        updated_at = $10, ended_at = $11, lease_expires_at = CASE WHEN $12 THEN $10 ELSE lease_expires_at END \
        WHERE id = $13 AND lease_owner IS NOT DISTINCT FROM $14 RETURNING 1
        """
    /// The values of `update`, $1 to $14, named for a `VALUES` list (`PostgresBatchStatement`):
    /// the first 11 are assigned to the columns of the same name.
    static let updateValueNames = [
        "status", "forward_status", "compensation_status", "context", "cursor", "failure_name", "failure_message",
        "failure_state", "wake_at", "updated_at", "ended_at", "release_lease", "id", "lease_owner",
    ]
    static let byID = "SELECT \(columns) FROM instances WHERE id = $1"
    static let byBusinessKey = "SELECT \(columns) FROM instances WHERE business_key = $1"
    static let leaseOwnerByID = "SELECT lease_owner FROM instances WHERE id = $1"
    /// Nobody holds a live lease: as `claim` and `acquire` define it. $1 now, $2 dead owners.
    static let isFree = "(lease_owner IS NULL OR lease_expires_at < $1 OR lease_owner = ANY($2))"
    static let live = "status IN ('running', 'compensating')"
}

/// `$first, …, $last`.
func placeholders(_ numbers: ClosedRange<Int>) -> String {
    numbers.map { "$\($0)" }.joined(separator: ", ")
}

extension InstanceRecord {
    /// All columns, in `InstanceSQL.columns` order.
    var insertCells: [SQLCell] {
        [
            .text(id), .text(definitionFingerprint), .text(workflowName), .text(businessKey), .text(parentID),
            .int(parentStepSeq), .text(status.rawValue), .text(forwardStatus.rawValue),
            .text(compensationStatus?.rawValue), .text(input.jsonString()), .text(context.jsonString()), .text(cursor),
            .text(failure?.name), .text(failure?.message), .text(failure?.state), .text(leaseOwner?.description),
            .double(leaseExpiresAt?.timeIntervalSince1970), .double(wakeAt?.timeIntervalSince1970),
            .double(createdAt.timeIntervalSince1970), .double(updatedAt.timeIntervalSince1970),
            .double(endedAt?.timeIntervalSince1970),
        ]
    }

    /// The values of `InstanceSQL.update`, in `InstanceSQL.updateValueNames` order.
    var updateCells: [SQLCell] {
        [
            .text(status.rawValue), .text(forwardStatus.rawValue), .text(compensationStatus?.rawValue),
            .text(context.jsonString()), .text(cursor), .text(failure?.name), .text(failure?.message),
            .text(failure?.state), .double(wakeAt?.timeIntervalSince1970), .double(updatedAt.timeIntervalSince1970),
            .double(endedAt?.timeIntervalSince1970), .bool(status.isTerminal), .text(id), .text(leaseOwner?.description),
        ]
    }

    /// Reads a row selected with `InstanceSQL.columns`.
    init(row: PostgresRow) throws {
        var r = RowReader(row)
        let id: String = try r.next()
        let what = "instance \(id)"
        self.init(
            id: id,
            definitionFingerprint: try r.next(),
            workflowName: try r.next(),
            businessKey: try r.next(),
            parentID: try r.next(),
            parentStepSeq: try r.next(),
            status: try r.nextEnum(what),
            forwardStatus: try r.nextEnum(what),
            compensationStatus: try r.nextOptionalEnum(what),
            input: try r.nextJSON(what),
            context: try r.nextJSON(what),
            cursor: try r.next(),
            failure: try r.nextFailure(),
            leaseOwner: try r.nextLeaseOwner(what),
            leaseExpiresAt: try r.nextDate(),
            wakeAt: try r.nextDate(),
            createdAt: try r.nextDate() ?? missing("created_at", what),
            updatedAt: try r.nextDate() ?? missing("updated_at", what),
            endedAt: try r.nextDate())
    }
}

// MARK: - Steps

enum StepSQL {
    static let columnNames = [
        "instance_id", "seq", "state_name", "phase", "compensated_seq", "retried_seq", "attempt", "status",
        "is_for_update", "input", "output", "failure_name", "failure_message", "failure_state", "idempotency_key",
        "child_instance_id", "started_at", "ended_at", "retry_at", "executor",
    ]
    static let columns = columnNames.joined(separator: ", ")
    /// At most this many rows per upsert statement (20 parameters each; the protocol allows 65535).
    static let maximumRowsPerStatement = 1000

    /// Inserts `rows` rows, or replaces every column of a row with the same (instance_id, seq).
    static func upsert(rows: Int) -> String {
        let values = (0..<rows).map { n in "(" + placeholders(n * 20 + 1...n * 20 + 20) + ")" }
        let updates = columnNames.dropFirst(2).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO steps (\(columns)) VALUES " + values.joined(separator: ", ")
            + " ON CONFLICT (instance_id, seq) DO UPDATE SET " + updates
    }

    static let ofInstance = "SELECT \(columns) FROM steps WHERE instance_id = $1 ORDER BY seq"
}

extension StepRecord {
    /// This row's 20 values, in `StepSQL.columns` order.
    var cells: [SQLCell] {
        [
            .text(instanceID), .int(seq), .text(stateName), .text(phase.rawValue), .int(compensatedSeq),
            .int(retriedSeq), .int(attempt), .text(status.rawValue), .bool(isForUpdate), .text(input.jsonString()),
            .text(output?.jsonString()), .text(failure?.name), .text(failure?.message), .text(failure?.state),
            .text(idempotencyKey), .text(childInstanceID), .double(startedAt.timeIntervalSince1970),
            .double(endedAt?.timeIntervalSince1970), .double(retryAt?.timeIntervalSince1970),
            .text(executor?.description),
        ]
    }

    init(row: PostgresRow) throws {
        var r = RowReader(row)
        let instanceID: String = try r.next()
        let seq: Int = try r.next()
        let what = "step \(seq) of instance \(instanceID)"
        self.init(
            instanceID: instanceID,
            seq: seq,
            stateName: try r.next(),
            phase: try r.nextEnum(what),
            compensatedSeq: try r.next(),
            retriedSeq: try r.next(),
            attempt: try r.next(),
            status: try r.nextEnum(what),
            isForUpdate: try r.next(),
            input: try r.nextJSON(what),
            output: try r.nextOptionalJSON(what),
            failure: try r.nextFailure(),
            idempotencyKey: try r.next(),
            childInstanceID: try r.next(),
            startedAt: try r.nextDate() ?? missing("started_at", what),
            endedAt: try r.nextDate(),
            retryAt: try r.nextDate(),
            executor: try r.nextLeaseOwner(what))
    }
}

extension [StepRecord] {
    /// The rows to upsert, as cells: a seq given twice keeps its last row, as consecutive
    /// upserts would (one statement may not touch a row twice).
    var upsertRows: [[SQLCell]] {
        var lastIndexBySeq: [Int: Int] = [:]
        for (index, step) in enumerated() { lastIndexBySeq[step.seq] = index }
        return enumerated().filter { lastIndexBySeq[$0.element.seq] == $0.offset }.map(\.element.cells)
    }
}

extension [[SQLCell]] {
    /// The upsert statements for these step rows (`upsertRows`): one per
    /// `StepSQL.maximumRowsPerStatement` rows.
    var stepUpsertQueries: [PostgresQuery] {
        stride(from: 0, to: count, by: StepSQL.maximumRowsPerStatement).map { start in
            let chunk = self[start..<Swift.min(start + StepSQL.maximumRowsPerStatement, count)]
            var bindings = PostgresBindings(capacity: chunk.count * StepSQL.columnNames.count)
            for row in chunk { for cell in row { bindings.append(cell) } }
            return PostgresQuery(unsafeSQL: StepSQL.upsert(rows: chunk.count), binds: bindings)
        }
    }
}

// MARK: - Definitions

enum DefinitionSQL {
    static let insertIfNew = """
        INSERT INTO definitions (fingerprint, name, path, source, created_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (fingerprint) DO NOTHING
        """
    static let byFingerprint = "SELECT fingerprint, name, path, source, created_at FROM definitions WHERE fingerprint = $1"
    static let exists = "SELECT 1 FROM definitions WHERE fingerprint = $1"
}

extension StoredDefinition {
    var insertBindings: PostgresBindings {
        var b = PostgresBindings(capacity: 5)
        b.append(fingerprint)
        b.append(name)
        b.append(path)
        b.append(source)
        b.append(createdAt.timeIntervalSince1970)
        return b
    }

    init(row: PostgresRow) throws {
        var r = RowReader(row)
        let fingerprint: String = try r.next()
        self.init(
            fingerprint: fingerprint, name: try r.next(), path: try r.next(), source: try r.next(),
            createdAt: try r.nextDate() ?? missing("created_at", "definition \(fingerprint)"))
    }
}

// MARK: - Column decoding

/// Reads a row's cells left to right.
struct RowReader {
    private let row: PostgresRandomAccessRow
    private var index = 0

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    /// The one row of an aggregate query.
    init(single rows: [PostgresRow]) throws {
        guard rows.count == 1, let row = rows.first else {
            throw UnreadableRow(message: "a query for one row returned \(rows.count)")
        }
        self.init(row)
    }

    mutating func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T {
        defer { index += 1 }
        return try row[index].decode(T.self)
    }

    mutating func nextDate() throws -> Date? {
        try next(Double?.self).map { Date(timeIntervalSince1970: $0) }
    }

    mutating func nextEnum<E: RawRepresentable>(_ what: String) throws -> E where E.RawValue == String {
        let column = row[index].columnName
        let text: String = try next()
        guard let value = E(rawValue: text) else {
            throw UnreadableRow(message: "\(what) has an unknown \(column) '\(text)'")
        }
        return value
    }

    mutating func nextOptionalEnum<E: RawRepresentable>(_ what: String) throws -> E? where E.RawValue == String {
        guard row[index].bytes != nil else {
            index += 1
            return nil
        }
        return try nextEnum(what) as E
    }

    mutating func nextJSON(_ what: String) throws -> JSONValue {
        let column = row[index].columnName
        let text: String = try next()
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw UnreadableRow(message: "\(what) holds invalid JSON in \(column) (\(error))")
        }
    }

    /// Nil for SQL NULL; JSON `null` is `.null`.
    mutating func nextOptionalJSON(_ what: String) throws -> JSONValue? {
        guard row[index].bytes != nil else {
            index += 1
            return JSONValue?.none
        }
        return try nextJSON(what)
    }

    /// Three columns: name, message, state; no failure when the name is NULL.
    mutating func nextFailure() throws -> FailureRecord? {
        let name: String? = try next()
        let message: String? = try next()
        let state: String? = try next()
        guard let name else { return nil }
        guard let message else { throw UnreadableRow(message: "failure \(name) has no failure_message") }
        return FailureRecord(name: name, message: message, state: state)
    }

    mutating func nextLeaseOwner(_ what: String) throws -> LeaseOwner? {
        guard let text: String = try next() else { return nil }
        guard let owner = LeaseOwner(parsing: text) else {
            throw UnreadableRow(message: "\(what) has an unreadable lease owner '\(text)'")
        }
        return owner
    }
}

private func missing<T>(_ column: String, _ what: String) throws -> T {
    throw UnreadableRow(message: "\(what) has no \(column)")
}

func parseLeaseOwner(_ text: String) throws -> LeaseOwner {
    guard let owner = LeaseOwner(parsing: text) else {
        throw UnreadableRow(message: "unreadable lease owner '\(text)'")
    }
    return owner
}

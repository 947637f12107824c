import Foundation
import GRDB
import Interpreter
import StateLang

/// The embedded default `InstanceStore`: one SQLite file in WAL mode.
///
/// - Writes: `createInstance` and `apply` go through group commit (`GroupCommitQueue`): one
///   transaction, so one fsync, per batch of concurrent calls. `claim`, `acquire`,
///   `renewLeases` and `saveDefinition` are one `BEGIN IMMEDIATE` transaction each, so they are
///   atomic across processes sharing the file.
/// - Reads run on a pool of WAL reader connections (GRDB `DatabasePool`): they see the last
///   commit and never wait for the writer.
/// - Opening checks `PRAGMA application_id` and the schema version before touching the file,
///   so another application's database is refused unchanged, then runs the migrations.
public final class SQLiteInstanceStore: InstanceStore, CommitStatisticsReporting, Sendable {
    /// What a committed transition survives.
    public enum Durability: String, Sendable, Hashable, CaseIterable {
        /// `synchronous=FULL`: every commit is on disk before callers resume; survives power
        /// loss. The default.
        case full
        /// `synchronous=NORMAL`: survives a crash of the process, but the last commits may be
        /// lost on power loss or an OS crash. Faster (fewer fsyncs).
        case normal

        var pragmaValue: Int {
            switch self {
            case .full: 2
            case .normal: 1
            }
        }
    }

    /// The settings in force on the writer connection, as SQLite reports them.
    public struct Settings: Sendable, Hashable {
        /// `wal`.
        public var journalMode: String
        /// `PRAGMA synchronous`: 2 is FULL, 1 is NORMAL.
        public var synchronous: Int
        /// `PRAGMA user_version`: the schema version.
        public var schemaVersion: Int
        /// `PRAGMA busy_timeout` of the writing connection, in milliseconds.
        public var busyTimeoutMilliseconds: Int
    }

    /// What group commit has done since the store was opened (shared with the other stores).
    public typealias CommitStatistics = Interpreter.CommitStatistics

    /// Fault injection for tests, not a setting: `SAGACTL_SQLITE_MAX_PAGE_COUNT=N` caps the
    /// database at N pages (`PRAGMA max_page_count`, on every connection this store opens), so
    /// that a write that would grow it past N fails as on a full disk (`SQLITE_FULL`). SQLite
    /// never lowers the cap below the current size: 1 means "no growth". Read when the store
    /// opens; used by `StoreFaultTests`.
    public static let maxPageCountFaultVariable = "SAGACTL_SQLITE_MAX_PAGE_COUNT"

    public let path: String
    public let durability: Durability
    /// Seconds to wait for another process's write lock before `StoreError.busy`.
    public let busyTimeout: TimeInterval
    private let pool: DatabasePool
    private let commits: GroupCommitQueue

    /// Opens the database at `path`, creating the file when it is missing, and brings its schema
    /// up to date.
    ///
    /// - Throws: `StoreError.incompatible` when the file is not a sagactl database or comes from
    ///   a newer sagactl; `.busy` when another process holds it longer than `busyTimeout`;
    ///   `.failure` when it cannot be opened (permissions, a damaged file).
    public init(path: String, durability: Durability = .full, busyTimeout: TimeInterval = 5) throws {
        self.path = path
        self.durability = durability
        self.busyTimeout = busyTimeout
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "sagactl.store"
        if let text = ProcessInfo.processInfo.environment[Self.maxPageCountFaultVariable], let pages = Int(text), pages > 0 {
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        }
        do {
            pool = try LockRace.retrying(for: busyTimeout) {
                try Self.checkExistingFile(path, configuration: configuration)
                let pool = try DatabasePool(path: path, configuration: configuration)
                // After opening: DatabasePool sets synchronous=NORMAL while it sets up WAL mode.
                try pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = \(durability.pragmaValue)")
                    try SQLiteSchema.migrate(db, path: path)
                }
                return pool
            }
        } catch {
            throw StoreError.sqlite(error, path: path, busyTimeout: busyTimeout)
        }
        commits = GroupCommitQueue(pool: pool, busyTimeout: busyTimeout) { error in
            StoreError.sqlite(error, path: path, busyTimeout: busyTimeout)
        }
    }

    /// Looks at an existing non-empty file through a plain connection, which changes nothing,
    /// so that a foreign database is not switched to WAL mode before it is refused.
    private static func checkExistingFile(_ path: String, configuration: Configuration) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }  // created below
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        guard size > 0 else { return }  // an empty file is an empty database
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }  // read-only use; closing it cannot lose anything
        _ = try queue.read { db in try SQLiteSchema.check(db, path: path) }
    }

    /// Finishes the writes already accepted, then closes every connection. Later calls throw
    /// `StoreError.failure`. Closing twice is harmless.
    public func close() throws {
        commits.close(with: .failure("the store at \(path) is closed"))
        // Each sync job on the writer queue runs after the drains queued before it.
        repeat {
            pool.writeWithoutTransaction { _ in }
        } while commits.hasPending
        do {
            try pool.close()
        } catch {
            throw mapError(error)
        }
    }

    public var commitStatistics: CommitStatistics { commits.statistics }

    /// The settings SQLite reports for the writer connection (for diagnostics and tests).
    public func settings() async throws -> Settings {
        try await withWriter { db in
            Settings(
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                schemaVersion: try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                busyTimeoutMilliseconds: try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? -1)
        }
    }

    // MARK: - Definitions

    public func saveDefinition(_ definition: StoredDefinition) async throws {
        let arguments = definition.insertArguments
        try await inImmediateTransaction { db in
            try db.cachedStatement(sql: DefinitionSQL.insertIfNew).execute(arguments: arguments)
        }
    }

    public func definition(fingerprint: String) async throws -> StoredDefinition? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: DefinitionSQL.byFingerprint), arguments: [fingerprint])
                .map(StoredDefinition.init(row:))
        }
    }

    // MARK: - Transitions (group commit)

    public func createInstance(_ transition: Transition) async throws -> CreateOutcome {
        switch try await commits.submit(EncodedTransition(.create, transition)) {
        case .existing(let record): .existing(record)
        case .created, .applied: .created
        }
    }

    public func apply(_ transition: Transition) async throws {
        _ = try await commits.submit(EncodedTransition(.apply, transition))
    }

    // MARK: - Reads

    public func instance(id: InstanceID) async throws -> InstanceRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: InstanceSQL.byID), arguments: [id]).map(InstanceRecord.init(row:))
        }
    }

    public func instance(businessKey: String) async throws -> InstanceRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: InstanceSQL.byBusinessKey), arguments: [businessKey])
                .map(InstanceRecord.init(row:))
        }
    }

    public func steps(of id: InstanceID) async throws -> [StepRecord] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: StepSQL.ofInstance), arguments: [id]).map(StepRecord.init(row:))
        }
    }

    public func listInstances(_ query: InstanceQuery) async throws -> [InstanceRecord] {
        guard query.limit > 0 else { return [] }
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let status = query.status {
            conditions.append("status = ?")
            arguments.append(status.rawValue)
        }
        if let name = query.workflowName {
            conditions.append("workflow_name = ?")
            arguments.append(name)
        }
        if let parent = query.parentID {
            conditions.append("parent_id = ?")
            arguments.append(parent)
        }
        if query.topLevelOnly {
            conditions.append("parent_id IS NULL")
        }
        arguments.append(query.limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") + " "
        let sql = "SELECT \(InstanceSQL.columns) FROM instances \(whereClause)ORDER BY created_at DESC, id DESC LIMIT ?"
        let statementArguments = StatementArguments(arguments)
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: statementArguments).map(InstanceRecord.init(row:))
        }
    }

    public func countByStatus() async throws -> [InstanceStatus: Int] {
        try await read { db in
            var counts: [InstanceStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) FROM instances GROUP BY status") {
                let text: String = try row.decode(atIndex: 0)
                guard let status = InstanceStatus(rawValue: text) else {
                    throw UnreadableRow(message: "an instance has an unknown status '\(text)'")
                }
                counts[status] = try row.decode(atIndex: 1)
            }
            return counts
        }
    }

    // MARK: - Leases

    public func claim(
        owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int
    ) async throws -> [InstanceRecord] {
        guard limit > 0 else { return [] }
        let arguments: StatementArguments = [
            now.timeIntervalSince1970, Self.jsonList(deadOwners.map(\.description)), owner.description,
            leaseUntil.timeIntervalSince1970, limit,
        ]
        let claimed = try await inImmediateTransaction { db in
            try Row.fetchAll(db.cachedStatement(sql: Self.claimSQL), arguments: arguments).map(InstanceRecord.init(row:))
        }
        return claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    // MARK: Outbox

    public func claimOutbox(
        owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int
    ) async throws -> [OutboxMessage] {
        guard limit > 0 else { return [] }
        let arguments: StatementArguments = [
            now.timeIntervalSince1970, Self.jsonList(deadOwners.map(\.description)), owner.description,
            leaseUntil.timeIntervalSince1970, limit,
        ]
        let claimed = try await inImmediateTransaction { db in
            try Row.fetchAll(db.cachedStatement(sql: OutboxSQL.claim), arguments: arguments).map(OutboxMessage.init(row:))
        }
        return claimed.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    public func finishOutbox(_ message: OutboxMessage, owner: LeaseOwner) async throws -> Bool {
        let arguments = StatementArguments([
            message.status.rawValue, message.attempts, message.nextAttemptAt.timeIntervalSince1970,
            message.lastError?.name, message.lastError?.message, message.lastError?.state,
            message.deliveredAt?.timeIntervalSince1970, message.id, owner.description,
        ] as [(any DatabaseValueConvertible)?])
        return try await inImmediateTransaction { db in
            try db.cachedStatement(sql: OutboxSQL.finish).execute(arguments: arguments)
            return db.changesCount == 1
        }
    }

    public func listOutbox(status: OutboxStatus?, limit: Int) async throws -> [OutboxMessage] {
        try await read { db in
            if let status {
                return try Row.fetchAll(db, sql: OutboxSQL.listByStatus, arguments: [status.rawValue, limit])
                    .map(OutboxMessage.init(row:))
            }
            return try Row.fetchAll(db, sql: OutboxSQL.list, arguments: [limit]).map(OutboxMessage.init(row:))
        }
    }

    public func retryOutbox(id: String, now: Date) async throws -> OutboxMessage? {
        try await inImmediateTransaction { db in
            guard let row = try Row.fetchOne(db, sql: OutboxSQL.byID, arguments: [id]) else { return nil }
            let message = try OutboxMessage(row: row)
            guard message.status == .failed else {
                throw StoreError.failure("outbox message \(id) is \(message.status.rawValue); only failed messages can be retried")
            }
            return try Row.fetchOne(db, sql: OutboxSQL.retry, arguments: [now.timeIntervalSince1970, id])
                .map(OutboxMessage.init(row:))
        }
    }

    // MARK: Circuits

    public func recordCircuit(_ record: CircuitRecord) async throws {
        let arguments = StatementArguments([
            record.service, record.phase, record.detail, record.openUntil?.timeIntervalSince1970,
            record.changedAt.timeIntervalSince1970, record.owner.description,
        ] as [(any DatabaseValueConvertible)?])
        try await withWriter { db in
            try db.cachedStatement(sql: Self.recordCircuitSQL).execute(arguments: arguments)
        }
    }

    public func circuits() async throws -> [CircuitRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT service, phase, detail, open_until, changed_at, owner FROM circuits ORDER BY service"
            ).map { row in
                CircuitRecord(service: try row.decode(atIndex: 0), phase: try row.decode(atIndex: 1),
                              detail: try row.decode(atIndex: 2), openUntil: try decodeDate(row, 3),
                              changedAt: try decodeDate(row, 4) ?? missing("changed_at", "a circuit row"),
                              owner: try parseLeaseOwner(try row.decode(atIndex: 5)))
            }
        }
    }

    /// One row per service; an older change arriving late leaves the newer one.
    private static let recordCircuitSQL = """
        INSERT INTO circuits (service, phase, detail, open_until, changed_at, owner) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (service) DO UPDATE SET phase = excluded.phase, detail = excluded.detail,
            open_until = excluded.open_until, changed_at = excluded.changed_at, owner = excluded.owner
        WHERE excluded.changed_at >= circuits.changed_at
        """

    /// ?1 now, ?2 dead owners, ?3 new owner, ?4 lease expiry, ?5 limit.
    private static let claimSQL = """
        UPDATE instances SET lease_owner = ?3, lease_expires_at = ?4
        WHERE id IN (
            SELECT id FROM instances INDEXED BY instances_live
            WHERE \(InstanceSQL.live) AND \(InstanceSQL.isFree) AND (wake_at IS NULL OR wake_at <= ?1)
            ORDER BY created_at, id LIMIT ?5)
        RETURNING \(InstanceSQL.columns)
        """

    public func acquire(
        _ id: InstanceID, owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>
    ) async throws -> InstanceRecord? {
        let arguments: StatementArguments = [
            now.timeIntervalSince1970, Self.jsonList(deadOwners.map(\.description)), owner.description,
            leaseUntil.timeIntervalSince1970, id,
        ]
        return try await inImmediateTransaction { db in
            if let row = try Row.fetchOne(db.cachedStatement(sql: Self.acquireSQL), arguments: arguments) {
                return try InstanceRecord(row: row)
            }
            guard try Row.fetchOne(db.cachedStatement(sql: InstanceSQL.leaseOwnerByID), arguments: [id]) != nil else {
                throw StoreError.instanceNotFound(id)
            }
            return nil
        }
    }

    /// ?1 now, ?2 dead owners, ?3 new owner, ?4 lease expiry, ?5 instance id.
    private static let acquireSQL = """
        UPDATE instances SET lease_owner = ?3, lease_expires_at = ?4
        WHERE id = ?5 AND (lease_owner = ?3 OR \(InstanceSQL.isFree))
        RETURNING \(InstanceSQL.columns)
        """

    public func renewLeases(_ ids: [InstanceID], owner: LeaseOwner, until: Date) async throws -> Set<InstanceID> {
        guard !ids.isEmpty else { return [] }
        let arguments: StatementArguments = [until.timeIntervalSince1970, owner.description, Self.jsonList(ids)]
        let renewed = try await inImmediateTransaction { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE instances SET lease_expires_at = ?1
                        WHERE lease_owner = ?2 AND id IN (SELECT value FROM json_each(?3)) RETURNING id
                        """),
                arguments: arguments)
        }
        return Set(renewed)
    }

    public func leaseHolders() async throws -> Set<LeaseOwner> {
        try await read { db in
            let texts = try String.fetchAll(
                db, sql: """
                    SELECT DISTINCT lease_owner FROM instances INDEXED BY instances_live
                    WHERE \(InstanceSQL.live) AND lease_owner IS NOT NULL
                    """)
            return Set(try texts.map(parseLeaseOwner))
        }
    }

    public func nextWakeAt() async throws -> Date? {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT min(wake_at) FROM instances
                    WHERE \(InstanceSQL.live) AND lease_owner IS NULL AND wake_at IS NOT NULL
                    """)
            return try row.flatMap { try decodeDate($0, 0) }
        }
    }

    // MARK: - Plumbing

    private static func jsonList(_ texts: some Sequence<String>) -> String {
        JSONValue.array(texts.map(JSONValue.string)).jsonString()
    }

    private func mapError(_ error: any Error) -> StoreError {
        StoreError.sqlite(error, path: path, busyTimeout: busyTimeout)
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try commits.checkOpen()
        do {
            return try await LockRace.retrying(for: busyTimeout) { try await pool.read(body) }
        } catch {
            throw mapError(error)
        }
    }

    private func withWriter<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try commits.checkOpen()
        do {
            return try await LockRace.retrying(for: busyTimeout) { try await pool.writeWithoutTransaction(body) }
        } catch {
            throw mapError(error)
        }
    }

    /// One `BEGIN IMMEDIATE` transaction: takes the file's write lock first, so that the reads
    /// inside it and the writes that depend on them are atomic across processes.
    private func inImmediateTransaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        try await withWriter { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            guard let result else { throw StoreError.failure("internal error: a transaction returned no value") }
            return result
        }
    }
}

import Foundation
import Interpreter
import PostgresNIO
import StateLang

/// An `InstanceStore` in a PostgreSQL database, for many workers on many machines.
///
/// - Writes: `createInstance` and `apply` go through group commit (`PostgresCommitQueue`):
///   one transaction, so one WAL flush, per batch of concurrent calls, written by one statement
///   (`PostgresBatchStatement`); a transition that fails is written again alone, so that it
///   does not sink the others. `claim` is one
///   `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)` statement, so processes claiming at once
///   never wait for each other nor take the same instance. `acquire`, `renewLeases` and
///   `saveDefinition` are one statement each.
/// - Reads run on the other connections of a small pool (`Configuration.maximumConnections`).
/// - Opening connects once outside the pool, so that an unreachable server, a refused login or
///   a missing database is reported at once and precisely, then brings the schema up to date
///   (`migrate()`), refusing a schema from a newer sagactl.
///
/// Call `close()` when done: the store owns a background task (the pool and the group-commit
/// writer) that only `close()` ends.
public final class PostgresStore: InstanceStore, CommitStatisticsReporting, Sendable {
    /// What `migrate()` did: the schema version before and after.
    public struct Migration: Sendable, Hashable {
        public var from: Int
        public var to: Int
    }

    /// The schema version this build writes.
    public static var latestSchemaVersion: Int { PostgresSchema.latestVersion }

    public let configuration: Configuration
    /// What opening did to the schema (`from == to` when it was up to date).
    public let openingMigration: Migration
    private let client: PostgresClient
    private let commits: PostgresCommitQueue
    private let background: Task<Void, Never>
    private let logger: Logger

    /// Opens the store at `url` (see `Configuration.parse(url:)`).
    ///
    /// - Throws: `StoreError.failure` for a malformed URL, an unreachable server, a refused login
    ///   or a missing database (each message says what to do next), `.incompatible` for a
    ///   schema from a newer sagactl or tables sagactl did not create. Never shows the password.
    public convenience init(url: String) async throws {
        let configuration: Configuration
        do {
            configuration = try Configuration.parse(url: url)
        } catch {
            throw StoreError.failure(error.message)
        }
        try await self.init(configuration: configuration)
    }

    /// Opens the store described by `configuration`; throws as `init(url:)`.
    ///
    /// - Parameter waiting: told when opening has to wait for another session migrating the
    ///   schema (a message naming that session), so that a command can say why it waits.
    public init(configuration: Configuration, waiting: (@Sendable (String) -> Void)? = nil) async throws {
        self.configuration = configuration
        var logger = Logger(label: "sagactl.postgres")
        // Every failure reaches the caller as a StoreError; the client's own logs would repeat
        // them without context.
        logger.logLevel = .critical
        self.logger = logger
        let clientConfiguration = try configuration.clientConfiguration()
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try configuration.connectionConfiguration(), id: 0, logger: logger)
            do {
                openingMigration = try await PostgresSchema.migrate(
                    connection, schema: configuration.schema, target: configuration.redactedURL, logger: logger,
                    waiting: waiting)
            } catch {
                try? await connection.close()  // the migration error is the one to report
                throw error
            }
            try await connection.close()
        } catch {
            throw StoreError.postgres(error, configuration)
        }
        client = PostgresClient(configuration: clientConfiguration)
        commits = PostgresCommitQueue(maximumBatch: configuration.maximumBatch, writers: configuration.writerConnections) {
            error in
            StoreError.postgres(error, configuration)
        }
        // An unstructured task, because the store's API is init/close (a store is opened where
        // a value is needed, like the SQLite one), not a `run()` a caller keeps alive. It runs
        // the pool and the group-commit writer; `close()` ends it and waits for it.
        let client = self.client
        let commits = self.commits
        background = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                await commits.run(client: client, logger: logger)
                group.cancelAll()  // ends client.run(), which closes the connections
            }
        }
    }

    /// Finishes the writes already accepted, then closes every connection. Later calls throw
    /// `StoreError.failure`. Closing twice is harmless.
    public func close() async {
        commits.close(with: .failure("the store at \(configuration.redactedURL) is closed"))
        await background.value
    }

    public var commitStatistics: CommitStatistics { commits.statistics }

    /// Brings the schema up to date (opening the store already did; this is for `sagactl
    /// migrate` and for telling the version). Safe to run from several processes at once.
    public func migrate() async throws -> Migration {
        try commits.checkOpen()
        do {
            return try await client.withConnection { connection in
                try await PostgresSchema.migrate(
                    connection, schema: self.configuration.schema, target: self.configuration.redactedURL,
                    logger: self.logger)
            }
        } catch {
            throw mapError(error)
        }
    }

    // MARK: - Definitions

    public func saveDefinition(_ definition: StoredDefinition) async throws {
        try await run(PostgresQuery(unsafeSQL: DefinitionSQL.insertIfNew, binds: definition.insertBindings))
    }

    public func definition(fingerprint: String) async throws -> StoredDefinition? {
        try await fetch(PostgresQuery(unsafeSQL: DefinitionSQL.byFingerprint, binds: text(fingerprint)), StoredDefinition.init(row:))
            .first
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
        try await fetch(PostgresQuery(unsafeSQL: InstanceSQL.byID, binds: text(id)), InstanceRecord.init(row:)).first
    }

    public func instance(businessKey: String) async throws -> InstanceRecord? {
        try await fetch(PostgresQuery(unsafeSQL: InstanceSQL.byBusinessKey, binds: text(businessKey)), InstanceRecord.init(row:))
            .first
    }

    public func steps(of id: InstanceID) async throws -> [StepRecord] {
        try await fetch(PostgresQuery(unsafeSQL: StepSQL.ofInstance, binds: text(id)), StepRecord.init(row:))
    }

    public func listInstances(_ query: InstanceQuery) async throws -> [InstanceRecord] {
        guard query.limit > 0 else { return [] }
        var conditions: [String] = []
        var binds = PostgresBindings()
        if let status = query.status {
            binds.append(status.rawValue)
            conditions.append("status = $\(binds.count)")
        }
        if let name = query.workflowName {
            binds.append(name)
            conditions.append("workflow_name = $\(binds.count)")
        }
        if let parent = query.parentID {
            binds.append(parent)
            conditions.append("parent_id = $\(binds.count)")
        }
        if query.topLevelOnly {
            conditions.append("parent_id IS NULL")
        }
        binds.append(query.limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") + " "
        let sql = "SELECT \(InstanceSQL.columns) FROM instances \(whereClause)ORDER BY created_at DESC, id DESC LIMIT $\(binds.count)"
        return try await fetch(PostgresQuery(unsafeSQL: sql, binds: binds), InstanceRecord.init(row:))
    }

    public func countByStatus() async throws -> [InstanceStatus: Int] {
        let pairs = try await fetch("SELECT status, count(*) FROM instances GROUP BY status") { row in
            var reader = RowReader(row)
            let text: String = try reader.next()
            guard let status = InstanceStatus(rawValue: text) else {
                throw UnreadableRow(message: "an instance has an unknown status '\(text)'")
            }
            return (status, try reader.next(Int.self))
        }
        return Dictionary(uniqueKeysWithValues: pairs)
    }

    // MARK: - Leases

    public func claim(
        owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>, limit: Int
    ) async throws -> [InstanceRecord] {
        guard limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(now.timeIntervalSince1970)
        binds.append(deadOwners.map(\.description))
        binds.append(owner.description)
        binds.append(leaseUntil.timeIntervalSince1970)
        binds.append(limit)
        let claimed = try await fetch(PostgresQuery(unsafeSQL: Self.claimSQL, binds: binds), InstanceRecord.init(row:))
        return claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// $1 now, $2 dead owners, $3 new owner, $4 lease expiry, $5 limit. The CTE locks the rows
    /// it picks and skips rows another transaction has locked (another claimer, or a batch
    /// writing to an instance), so concurrent claimers share the free instances without
    /// waiting; a row changed by a transaction that committed meanwhile is re-checked against
    /// the WHERE clause before it is locked.
    private static let claimSQL = """
        WITH picked AS (
            SELECT id FROM instances
            WHERE \(InstanceSQL.live) AND \(InstanceSQL.isFree) AND (wake_at IS NULL OR wake_at <= $1)
            ORDER BY created_at, id
            LIMIT $5
            FOR UPDATE SKIP LOCKED)
        UPDATE instances AS i SET lease_owner = $3, lease_expires_at = $4
        FROM picked WHERE i.id = picked.id
        RETURNING \(InstanceSQL.columns(qualifiedBy: "i"))
        """

    public func acquire(
        _ id: InstanceID, owner: LeaseOwner, now: Date, leaseUntil: Date, deadOwners: Set<LeaseOwner>
    ) async throws -> InstanceRecord? {
        var binds = PostgresBindings()
        binds.append(now.timeIntervalSince1970)
        binds.append(deadOwners.map(\.description))
        binds.append(owner.description)
        binds.append(leaseUntil.timeIntervalSince1970)
        binds.append(id)
        if let record = try await fetch(PostgresQuery(unsafeSQL: Self.acquireSQL, binds: binds), InstanceRecord.init(row:))
            .first
        {
            return record
        }
        // No row changes owner without an update, and rows are never deleted: reading after the
        // update tells "held by another" from "missing" without a transaction.
        guard try await fetch(PostgresQuery(unsafeSQL: InstanceSQL.leaseOwnerByID, binds: text(id)), { _ in true }).first
            != nil
        else {
            throw StoreError.instanceNotFound(id)
        }
        return nil
    }

    /// $1 now, $2 dead owners, $3 new owner, $4 lease expiry, $5 instance id.
    private static let acquireSQL = """
        UPDATE instances SET lease_owner = $3, lease_expires_at = $4
        WHERE id = $5 AND (lease_owner = $3 OR \(InstanceSQL.isFree))
        RETURNING \(InstanceSQL.columns)
        """

    public func renewLeases(_ ids: [InstanceID], owner: LeaseOwner, until: Date) async throws -> Set<InstanceID> {
        guard !ids.isEmpty else { return [] }
        let renewed = try await fetch(
            """
            UPDATE instances SET lease_expires_at = \(until.timeIntervalSince1970)
            WHERE lease_owner = \(owner.description) AND id = ANY(\(ids)) RETURNING id
            """
        ) { row in
            var reader = RowReader(row)
            return try reader.next(String.self)
        }
        return Set(renewed)
    }

    public func leaseHolders() async throws -> Set<LeaseOwner> {
        let owners = try await fetch(
            PostgresQuery(unsafeSQL: """
                SELECT DISTINCT lease_owner FROM instances WHERE \(InstanceSQL.live) AND lease_owner IS NOT NULL
                """)
        ) { row in
            var reader = RowReader(row)
            return try parseLeaseOwner(try reader.next(String.self))
        }
        return Set(owners)
    }

    public func nextWakeAt() async throws -> Date? {
        let dates = try await fetch(
            PostgresQuery(unsafeSQL: """
                SELECT min(wake_at) FROM instances
                WHERE \(InstanceSQL.live) AND lease_owner IS NULL AND wake_at IS NOT NULL
                """)
        ) { row in
            var reader = RowReader(row)
            return try reader.nextDate()
        }
        return dates.first ?? nil
    }

    // MARK: - Plumbing

    private func mapError(_ error: any Error) -> StoreError {
        StoreError.postgres(error, configuration)
    }

    /// Runs one statement on a pooled connection (its own transaction) and decodes its rows;
    /// every error comes out as a `StoreError`.
    func fetch<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        try commits.checkOpen()
        do {
            return try await client.rows(query, logger: logger).map(decode)
        } catch {
            throw mapError(error)
        }
    }

    /// Runs one statement that returns no rows.
    func run(_ query: PostgresQuery) async throws {
        _ = try await fetch(query) { _ in () }
    }

    /// One text parameter.
    private func text(_ value: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }
}

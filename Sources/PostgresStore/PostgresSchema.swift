import Foundation
import Interpreter
import PostgresNIO

/// The database layout: numbered migrations, each recorded as a row of `sagactl_migrations`.
///
/// The tables mirror the SQLite store's: dates are `double precision` unix seconds (a Swift
/// `Date` reads back exactly, which `timestamptz`'s microseconds would not); JSON values are
/// `text` as `JSONValue.jsonString()` writes them (`jsonb` would reorder keys and drop
/// duplicates); a `LeaseOwner` is its `description` text; a `FailureRecord` is three columns,
/// present when `failure_name` is not NULL.
enum PostgresSchema {
    /// Migration n (1-based) brings the schema from version n-1 to n. Append only: a released
    /// migration is never edited. One statement per string (the extended protocol runs one at
    /// a time).
    static let migrations: [(description: String, statements: [String])] = [
        ("definitions, instances, steps", [
            """
            CREATE TABLE definitions (
                fingerprint text PRIMARY KEY,
                name text NOT NULL,
                path text NOT NULL,
                source text NOT NULL,
                created_at double precision NOT NULL
            )
            """,
            """
            CREATE TABLE instances (
                id text PRIMARY KEY,
                definition_fingerprint text NOT NULL REFERENCES definitions (fingerprint),
                workflow_name text NOT NULL,
                business_key text UNIQUE,
                parent_id text,
                parent_step_seq bigint,
                status text NOT NULL,
                forward_status text NOT NULL,
                compensation_status text,
                input text NOT NULL,
                context text NOT NULL,
                cursor text NOT NULL,
                failure_name text,
                failure_message text,
                failure_state text,
                lease_owner text,
                lease_expires_at double precision,
                wake_at double precision,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL,
                ended_at double precision
            )
            """,
            // listInstances: newest first, unfiltered or by status / workflow / parent (children).
            "CREATE INDEX instances_by_created ON instances (created_at, id)",
            "CREATE INDEX instances_by_status ON instances (status, created_at, id)",
            "CREATE INDEX instances_by_workflow ON instances (workflow_name, created_at, id)",
            "CREATE INDEX instances_by_parent ON instances (parent_id, created_at, id)",
            // claim (oldest first) and leaseHolders read only the live instances: few rows,
            // however many finished ones accumulate.
            """
            CREATE INDEX instances_live ON instances (created_at, id)
                WHERE status IN ('running', 'compensating')
            """,
            // nextWakeAt.
            """
            CREATE INDEX instances_waking ON instances (wake_at)
                WHERE status IN ('running', 'compensating') AND lease_owner IS NULL
            """,
            """
            CREATE TABLE steps (
                instance_id text NOT NULL REFERENCES instances (id),
                seq bigint NOT NULL,
                state_name text NOT NULL,
                phase text NOT NULL,
                compensated_seq bigint,
                retried_seq bigint,
                attempt bigint NOT NULL,
                status text NOT NULL,
                is_for_update boolean NOT NULL,
                input text NOT NULL,
                output text,
                failure_name text,
                failure_message text,
                failure_state text,
                idempotency_key text NOT NULL,
                child_instance_id text,
                started_at double precision NOT NULL,
                ended_at double precision,
                retry_at double precision,
                PRIMARY KEY (instance_id, seq)
            )
            """,
        ]),
        ("outbox", [
            """
            CREATE TABLE outbox (
                id text PRIMARY KEY,
                instance_id text NOT NULL REFERENCES instances (id),
                step_seq bigint NOT NULL,
                definition_fingerprint text NOT NULL,
                state_name text NOT NULL,
                service_name text NOT NULL,
                service_method text NOT NULL,
                service_type text,
                input text NOT NULL,
                status text NOT NULL,
                attempts bigint NOT NULL,
                max_attempts bigint NOT NULL,
                next_attempt_at double precision NOT NULL,
                error_name text,
                error_message text,
                error_state text,
                created_at double precision NOT NULL,
                delivered_at double precision,
                lease_owner text,
                lease_expires_at double precision
            )
            """,
            // claimOutbox: the pending messages, oldest due first.
            """
            CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending'
            """,
            """
            CREATE INDEX outbox_by_created ON outbox (created_at, id)
            """,
        ]),
        // Which executor (lease owner) created each step row, for the history.
        ("step executor", [
            """
            ALTER TABLE steps ADD COLUMN executor text
            """,
        ]),
        // The last change of each service's circuit breaker, for `sagactl status`.
        ("circuits", [
            """
            CREATE TABLE circuits (
                service text PRIMARY KEY,
                phase text NOT NULL,
                detail text NOT NULL,
                open_until double precision,
                changed_at double precision NOT NULL,
                owner text NOT NULL
            )
            """,
        ]),
    ]

    static var latestVersion: Int { migrations.count }

    /// The first key of the advisory lock that serialises migrations ("SAGA" in ASCII); the
    /// second is a hash of the schema name, so that schemas migrate independently.
    static let lockKey: Int32 = 0x5341_4741

    /// The tables sagactl creates, to tell a database of another application from an empty one.
    static let tables = ["definitions", "instances", "steps", "outbox", "circuits"]

    /// Brings the schema to `latestVersion` in one transaction holding an advisory lock, so
    /// that processes opening a new database at once do not both migrate it, and a failed
    /// migration leaves nothing behind (DDL is transactional in PostgreSQL).
    ///
    /// - Throws: `StoreError.incompatible` when the schema comes from a newer sagactl, or holds
    ///   tables with sagactl's names that sagactl did not create.
    ///
    /// - Parameter waiting: told, once, when another session holds the lock, who that is; the
    ///   migration then waits until the holder's transaction ends. Not told when the holder
    ///   let go before it could be named (there is then no wait to explain).
    static func migrate(
        _ connection: PostgresConnection, schema: String?, target: String, logger: Logger,
        waiting: (@Sendable (String) -> Void)? = nil
    ) async throws -> PostgresStore.Migration {
        // Up to date, there is nothing to write: read the version without the lock, so that
        // `list` or `status` can open the database while another process holds it for long (a
        // worker stopped while it migrates) — as the SQLite store does. Every migration commits
        // with its row in sagactl_migrations, so the latest version seen here is complete.
        if try await exists("sagactl_migrations", connection, logger: logger) {
            let current = try await recordedVersion(connection, target: target, logger: logger)
            if current == latestVersion { return PostgresStore.Migration(from: current, to: current) }
        }
        return try await PostgresTransaction.run(on: connection, logger: logger) { connection in
            let lockName = schema ?? ""
            let taken = try await connection.rows(
                "SELECT pg_try_advisory_xact_lock(\(lockKey), hashtext(\(lockName)))", logger: logger)
            var reader = try RowReader(single: taken)
            if try !reader.next(Bool.self) {
                if let waiting, let holder = try await lockHolder(connection, lockName: lockName, logger: logger) {
                    waiting("waiting for another session to finish migrating \(target) (\(holder.description)); it "
                        + "holds the migration lock until its transaction ends (if it is stuck, end it: "
                        + "SELECT pg_terminate_backend(\(holder.pid)))")
                }
                try await connection.rows(
                    "SELECT pg_advisory_xact_lock(\(lockKey), hashtext(\(lockName)))", logger: logger)
            }
            if let schema {
                // Checked by Configuration.isPlainIdentifier: safe to splice.
                try await connection.rows(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            }
            let from = try await version(connection, target: target, logger: logger)
            guard from < latestVersion else { return PostgresStore.Migration(from: from, to: from) }
            for (offset, migration) in migrations.enumerated().dropFirst(from) {
                for statement in migration.statements {
                    try await connection.rows(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let version = offset + 1
                try await connection.rows(
                    """
                    INSERT INTO sagactl_migrations (version, description, applied_at)
                    VALUES (\(version), \(migration.description), \(Date().timeIntervalSince1970))
                    """, logger: logger)
            }
            return PostgresStore.Migration(from: from, to: latestVersion)
        }
    }

    /// Who holds the migration lock of `lockName`, as PostgreSQL knows it ("backend pid 812,
    /// application sagactl, client 10.0.0.7, in its transaction for 14 s"), and its backend's
    /// pid for `pg_terminate_backend`; nil when it let go meanwhile. Two-key advisory
    /// locks show in pg_locks with the first key as classid, the second as objid, objsubid 2.
    private static func lockHolder(
        _ connection: PostgresConnection, lockName: String, logger: Logger
    ) async throws -> (description: String, pid: Int32)? {
        let rows = try await connection.rows(
            """
            SELECT a.pid, coalesce(nullif(a.application_name, ''), 'unnamed'),
                   coalesce(host(a.client_addr), 'a local socket'),
                   floor(extract(epoch FROM now() - a.xact_start))::bigint
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid = (\(lockKey))::oid AND l.objid = hashtext(\(lockName))::oid
            """, logger: logger)
        guard let row = rows.first else { return nil }
        var reader = RowReader(row)
        let pid = try reader.next(Int32.self), application = try reader.next(String.self)
        // Without the pg_read_all_stats role, another user's transaction start is hidden (NULL).
        let client = try reader.next(String.self), seconds = try reader.next(Int64?.self)
        let since = seconds.map { ", in its transaction for \($0) s" } ?? ""
        return ("backend pid \(pid), application \(application), client \(client)\(since)", pid)
    }

    /// The schema version, creating the (empty) migrations table when it is missing.
    ///
    /// - Throws: `StoreError.incompatible` for a newer schema or foreign tables.
    static func version(_ connection: PostgresConnection, target: String, logger: Logger) async throws -> Int {
        let hasMigrationsTable = try await exists("sagactl_migrations", connection, logger: logger)
        if !hasMigrationsTable {
            for table in tables where try await exists(table, connection, logger: logger) {
                throw StoreError.incompatible(
                    "\(target) already has a table named \(table) that sagactl did not create (there is no "
                        + "sagactl_migrations table); use a database of its own for sagactl, or add "
                        + "schema=NAME to the URL to keep sagactl's tables in a schema of their own")
            }
            try await connection.rows(
                """
                CREATE TABLE sagactl_migrations (
                    version integer PRIMARY KEY,
                    description text NOT NULL,
                    applied_at double precision NOT NULL
                )
                """, logger: logger)
            return 0
        }
        return try await recordedVersion(connection, target: target, logger: logger)
    }

    /// The highest version in sagactl_migrations, which must exist.
    ///
    /// - Throws: `StoreError.incompatible` for a version newer than this build's.
    private static func recordedVersion(_ connection: PostgresConnection, target: String, logger: Logger) async throws -> Int {
        let rows = try await connection.rows("SELECT coalesce(max(version), 0) FROM sagactl_migrations", logger: logger)
        var reader = try RowReader(single: rows)
        let version = Int(try reader.next(Int32.self))
        guard version <= latestVersion else {
            throw StoreError.incompatible(
                "\(target) was migrated by a newer sagactl (schema version \(version); this build knows up to "
                    + "\(latestVersion)); upgrade sagactl to use it")
        }
        return version
    }

    /// Whether a table of that name is visible on the search path (the configured schema).
    private static func exists(_ table: String, _ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.rows("SELECT to_regclass(\(table)) IS NOT NULL", logger: logger)
        var reader = try RowReader(single: rows)
        return try reader.next(Bool.self)
    }
}

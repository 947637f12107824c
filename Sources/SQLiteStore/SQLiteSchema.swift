import GRDB
import Interpreter

/// The database layout: numbered migrations recorded in `PRAGMA user_version`, and a
/// `PRAGMA application_id` that marks a file as a sagactl database.
///
/// Dates are REAL unix seconds; JSON values are TEXT written by `JSONValue.jsonString()`;
/// a `LeaseOwner` is its `description` text (`host/pid/nonce`); a `FailureRecord` is three
/// columns, present when `failure_name` is not NULL.
enum SQLiteSchema {
    /// "SAGA" in ASCII. Written in the database header at offset 68 (`PRAGMA application_id`).
    static let applicationID: Int32 = 0x5341_4741

    /// Migration n (1-based) brings `user_version` from n-1 to n. Append only: a released
    /// migration is never edited.
    static let migrations: [String] = [
        // 1: definitions, instances, steps.
        """
        CREATE TABLE definitions (
            fingerprint TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE instances (
            id TEXT PRIMARY KEY NOT NULL,
            definition_fingerprint TEXT NOT NULL REFERENCES definitions(fingerprint),
            workflow_name TEXT NOT NULL,
            business_key TEXT UNIQUE,
            parent_id TEXT,
            parent_step_seq INTEGER,
            status TEXT NOT NULL,
            forward_status TEXT NOT NULL,
            compensation_status TEXT,
            input TEXT NOT NULL,
            context TEXT NOT NULL,
            cursor TEXT NOT NULL,
            failure_name TEXT,
            failure_message TEXT,
            failure_state TEXT,
            lease_owner TEXT,
            lease_expires_at REAL,
            wake_at REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            ended_at REAL
        );
        -- listInstances: newest first, unfiltered or by status / workflow / parent (children).
        CREATE INDEX instances_by_created ON instances(created_at, id);
        CREATE INDEX instances_by_status ON instances(status, created_at, id);
        CREATE INDEX instances_by_workflow ON instances(workflow_name, created_at, id);
        CREATE INDEX instances_by_parent ON instances(parent_id, created_at, id);
        -- claim (oldest first) and leaseHolders read only the live instances: few rows,
        -- however many finished ones accumulate.
        CREATE INDEX instances_live ON instances(created_at, id)
            WHERE status IN ('running', 'compensating');
        -- nextWakeAt.
        CREATE INDEX instances_waking ON instances(wake_at)
            WHERE status IN ('running', 'compensating') AND lease_owner IS NULL;
        CREATE TABLE steps (
            instance_id TEXT NOT NULL REFERENCES instances(id),
            seq INTEGER NOT NULL,
            state_name TEXT NOT NULL,
            phase TEXT NOT NULL,
            compensated_seq INTEGER,
            retried_seq INTEGER,
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            is_for_update INTEGER NOT NULL,
            input TEXT NOT NULL,
            output TEXT,
            failure_name TEXT,
            failure_message TEXT,
            failure_state TEXT,
            idempotency_key TEXT NOT NULL,
            child_instance_id TEXT,
            started_at REAL NOT NULL,
            ended_at REAL,
            retry_at REAL,
            PRIMARY KEY (instance_id, seq)
        );
        """,
        // 2: the transactional outbox of IsAsync states (DESIGN §6).
        """
        CREATE TABLE outbox (
            id TEXT PRIMARY KEY NOT NULL,
            instance_id TEXT NOT NULL REFERENCES instances(id),
            step_seq INTEGER NOT NULL,
            definition_fingerprint TEXT NOT NULL,
            state_name TEXT NOT NULL,
            service_name TEXT NOT NULL,
            service_method TEXT NOT NULL,
            service_type TEXT,
            input TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            next_attempt_at REAL NOT NULL,
            error_name TEXT,
            error_message TEXT,
            error_state TEXT,
            created_at REAL NOT NULL,
            delivered_at REAL,
            lease_owner TEXT,
            lease_expires_at REAL
        );
        -- claimOutbox: the pending messages, oldest due first.
        CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE status = 'pending';
        CREATE INDEX outbox_by_created ON outbox(created_at, id);
        """,
        // 3: which executor (lease owner) created each step row, for the history.
        """
        ALTER TABLE steps ADD COLUMN executor TEXT;
        """,
        // 4: the last change of each service's circuit breaker, for `sagactl status`.
        """
        CREATE TABLE circuits (
            service TEXT PRIMARY KEY NOT NULL,
            phase TEXT NOT NULL,
            detail TEXT NOT NULL,
            open_until REAL,
            changed_at REAL NOT NULL,
            owner TEXT NOT NULL
        );
        """,
    ]

    static var latestVersion: Int { migrations.count }

    /// What the header and catalogue of an open database say.
    enum Kind {
        /// An empty database: no tables, no application id.
        case empty
        /// A sagactl database at this schema version.
        case sagactl(version: Int)
    }

    /// Classifies the database, refusing what this build must not touch: another
    /// application's database, or a sagactl database from a newer build.
    static func check(_ db: Database, path: String) throws -> Kind {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if applicationID == Self.applicationID {
            guard version <= latestVersion else {
                throw StoreError.incompatible(
                    "\(path) was written by a newer sagactl (schema version \(version); this build knows up to "
                        + "\(latestVersion)); upgrade sagactl to use it")
            }
            return .sagactl(version: version)
        }
        let objects = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
        guard applicationID == 0, objects == 0 else {
            throw StoreError.incompatible(
                "\(path) is not a sagactl database (it is an SQLite database of another application); "
                    + "pass --db with the path of a sagactl database, or of a new file to create one")
        }
        return .empty
    }

    /// Brings the database to `latestVersion` in one immediate transaction, so that two
    /// processes opening a new file at once do not both migrate it.
    static func migrate(_ db: Database, path: String) throws {
        // Up to date, there is nothing to write: read the version without the write lock, so
        // that `list` or `status` can open the database while another process holds that
        // lock for long (a worker stopped mid-commit) — a reader must not wait for a writer.
        if case .sagactl(let version) = try check(db, path: path), version == latestVersion { return }
        try db.inTransaction(.immediate) {
            let from: Int
            switch try check(db, path: path) {
            case .empty:
                try db.execute(sql: "PRAGMA application_id = \(applicationID)")
                from = 0
            case .sagactl(let version):
                from = version
            }
            guard from < latestVersion else { return .commit }
            for migration in migrations[from...] {
                try db.execute(sql: migration)
            }
            try db.execute(sql: "PRAGMA user_version = \(latestVersion)")
            return .commit
        }
    }
}

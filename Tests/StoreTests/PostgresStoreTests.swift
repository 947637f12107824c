import Foundation
import Interpreter
import PostgresNIO
@testable import PostgresStore
import StateLang
import Testing

/// What only the PostgreSQL store has: several store objects (processes) on one database,
/// group commit statistics, migrations, and the errors of a server.
@Suite("PostgreSQL store", .enabled(if: TestPostgres.isIncluded, "needs PostgreSQL: SAGACTL_TEST_POSTGRES_URL"))
struct PostgresStoreTests {
    @Test func twoStoresNeverClaimTheSameInstance() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            let first = try await PostgresStore(configuration: configuration)
            let second = try await PostgresStore(configuration: configuration)
            let records = (0..<300).map { Fixtures.instance(String(format: "i-%04d", $0), created: Double($0)) }
            try await first.seed(records)
            let claims = try await claimConcurrently(stores: [first, second], tasksPerStore: 4)
            #expect(claims.count == records.count)
            // Both stores got some: they really competed.
            #expect(Set(claims.values.map { $0.pid / 100 }).count == 2)
            for (id, owner) in claims.prefix(20) {
                #expect(try await second.instance(id: id)?.leaseOwner == owner)
            }
            await first.close()
            await second.close()
        }
    }

    /// 500 concurrent calls take fewer transactions than calls, and are all stored.
    @Test func concurrentAppliesShareTransactions() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            let store = try await PostgresStore(configuration: configuration)
            let records = (0..<500).map {
                Fixtures.instance(String(format: "i-%04d", $0), owner: Fixtures.alice, leaseExpires: 60)
            }
            try await store.seed(records)
            let before = store.commitStatistics
            try await withThrowingTaskGroup(of: Void.self) { group in
                for record in records {
                    group.addTask {
                        var next = record
                        next.cursor = "done"
                        try await store.apply(
                            Transition(instance: next, steps: [Fixtures.step(record.id, 1), Fixtures.step(record.id, 2)]))
                    }
                }
                try await group.waitForAll()
            }
            let after = store.commitStatistics
            #expect(after.transitions - before.transitions == 500)
            #expect(after.rows - before.rows == 1500)
            #expect(after.batches - before.batches < 500)
            #expect(after.batches - before.batches >= 1)
            await store.close()

            let reopened = try await PostgresStore(configuration: configuration)
            for record in records {
                #expect(try await reopened.instance(id: record.id)?.cursor == "done")
                #expect(try await reopened.steps(of: record.id).map(\.seq) == [1, 2])
            }
            await reopened.close()
        }
    }

    @Test func dataSurvivesClosingAndAClosedStoreRefusesWork() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            var record = Fixtures.fullInstance("i-1")
            let steps = [Fixtures.fullStep("i-1", 1), Fixtures.step("i-1", 2)]
            let store = try await PostgresStore(configuration: configuration)
            try await store.saveDefinition(Fixtures.definition)
            #expect(try await store.createInstance(Transition(instance: record, steps: [steps[0]])) == .created)
            record.cursor = "after"
            record.status = .compensated
            try await store.apply(Transition(instance: record, steps: [steps[1]]))
            record.leaseExpiresAt = record.updatedAt  // finishing releases the lease
            await store.close()
            await store.close()  // harmless
            let closed = StoreError.failure("the store at \(configuration.redactedURL) is closed")
            await #expect(throws: closed) { try await store.apply(Transition(instance: record)) }
            await #expect(throws: closed) { _ = try await store.instance(id: "i-1") }
            await #expect(throws: closed) { _ = try await store.migrate() }

            let reopened = try await PostgresStore(configuration: configuration)
            expectSame(try await reopened.instance(id: "i-1"), record)
            expectSame(try await reopened.steps(of: "i-1"), steps)
            #expect(try await reopened.definition(fingerprint: Fixtures.definition.fingerprint)?.source == Fixtures.definition.source)
            await reopened.close()
        }
    }

    /// Opening migrates a new schema once, even when many processes open it at once; later
    /// `migrate()` calls find nothing to do.
    @Test func openingMigratesOnceAndMigrateReportsTheVersion() async throws {
        try await TestPostgres.withFreshSchema { base in
            var fresh = base
            fresh.schema = base.schema.map { $0 + "_new" }  // does not exist yet: created
            let configuration = fresh
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<5 { group.addTask { try await PostgresStore(configuration: configuration) } }
                return try await group.reduce(into: [PostgresStore]()) { $0.append($1) }
            }
            let migration = try await stores[0].migrate()
            #expect(migration == PostgresStore.Migration(from: PostgresStore.latestSchemaVersion, to: PostgresStore.latestSchemaVersion))
            let versions = try await TestPostgres.admin(configuration) { connection in
                try await connection.rows("SELECT version FROM sagactl_migrations ORDER BY version", logger: TestPostgres.logger)
                    .map { try $0.decode(Int.self) }
            }
            #expect(versions == Array(1...PostgresStore.latestSchemaVersion))
            for store in stores { await store.close() }
            try await TestPostgres.admin(base) { connection in
                try await connection.rows(
                    PostgresQuery(unsafeSQL: "DROP SCHEMA \(configuration.schema!) CASCADE"), logger: TestPostgres.logger)
            }
        }
    }

    /// A process stopped while it holds the migration lock (a worker paused as it starts)
    /// must not stop `list` or `status` from opening a database that needs no migration: the
    /// version is read without the lock first, as the SQLite store reads it without the write
    /// lock. A schema to migrate still waits for the lock, so that two processes never both
    /// migrate it.
    @Test func onlyASchemaToMigrateWaitsForTheMigrationLock() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            try await TestPostgres.admin(configuration) { holder in
                let lockName = configuration.schema ?? ""
                let lock: PostgresQuery = "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey), hashtext(\(lockName)))"

                // The schema is empty: opening must wait for the lock, say who holds it, then migrate.
                try await holder.rows("BEGIN", logger: TestPostgres.logger)
                try await holder.rows(lock, logger: TestPostgres.logger)
                let holderPID = try await holder.rows("SELECT pg_backend_pid()", logger: TestPostgres.logger)
                    .map { try $0.decode(Int32.self) }.first
                // Opening connects, finds the lock taken and says so before it waits: wait for
                // either that or an open (120 s: a loaded machine takes seconds to connect), then
                // a little more, during which it must not open either.
                let first = OpeningStore(configuration)
                let reacted = try await first.saysOrOpens(within: .seconds(120))
                try await Task.sleep(for: .milliseconds(300))
                let migratedWhileLocked = first.isOpen
                let told = first.messages
                try await holder.rows("ROLLBACK", logger: TestPostgres.logger)
                #expect(reacted, "opening neither said that it waits nor opened within 120 s")
                #expect(!migratedWhileLocked, "an empty schema was migrated while another process held the migration lock")
                try await first.store().close()
                #expect(told.count == 1, "\(told)")
                let message = try #require(told.first)
                #expect(message.hasPrefix("waiting for another session to finish migrating \(configuration.redactedURL) ("), "\(message)")
                #expect(message.contains("backend pid \(try #require(holderPID)), application \(configuration.applicationName), client 127.0.0.1, in its transaction for "), "\(message)")
                #expect(message.hasSuffix("it holds the migration lock until its transaction ends "
                    + "(if it is stuck, end it: SELECT pg_terminate_backend(\(try #require(holderPID))))"), "\(message)")

                // Up to date: opening reads the version and goes on, lock or not. The old code
                // waited here until the lock was released; 120 s, then the lock goes either way.
                try await holder.rows("BEGIN", logger: TestPostgres.logger)
                try await holder.rows(lock, logger: TestPostgres.logger)
                let second = OpeningStore(configuration)
                let openedWhileLocked = try await second.opens(within: .seconds(120))
                try await holder.rows("ROLLBACK", logger: TestPostgres.logger)
                #expect(openedWhileLocked, "opening a migrated schema waited for the migration lock")
                #expect(second.messages.isEmpty)
                let store = try await second.store()
                #expect(try await store.migrate() == PostgresStore.Migration(
                    from: PostgresStore.latestSchemaVersion, to: PostgresStore.latestSchemaVersion))
                await store.close()
            }
        }
    }

    @Test func refusesASchemaFromANewerSagactl() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            try await PostgresStore(configuration: configuration).close()
            try await TestPostgres.admin(configuration) { connection in
                try await connection.rows(
                    "INSERT INTO sagactl_migrations VALUES (\(PostgresStore.latestSchemaVersion + 1), 'from the future', 0)",
                    logger: TestPostgres.logger)
            }
            let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore(configuration: configuration) }
            guard case .incompatible(let message) = error else {
                Issue.record("expected .incompatible, got \(error)")
                return
            }
            #expect(message.contains("newer sagactl"))
            #expect(message.contains("upgrade sagactl"))
            #expect(message.contains(configuration.redactedURL))
        }
    }

    @Test func refusesTablesItDidNotCreateAndLeavesThemAlone() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            try await TestPostgres.admin(configuration) { connection in
                try await connection.rows("CREATE TABLE instances (invoice integer)", logger: TestPostgres.logger)
            }
            let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore(configuration: configuration) }
            guard case .incompatible(let message) = error else {
                Issue.record("expected .incompatible, got \(error)")
                return
            }
            #expect(message.contains("a table named instances that sagactl did not create"))
            #expect(message.contains("schema=NAME"))
            let tables = try await TestPostgres.admin(configuration) { connection in
                try await connection.rows(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
                    logger: TestPostgres.logger
                ).map { try $0.decode(String.self) }
            }
            #expect(tables == ["instances"])  // no migrations table either: the transaction rolled back
        }
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        var configuration = try TestPostgres.configuration()
        configuration.password = "not-the-password-\(UUID().uuidString)"
        let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore(configuration: configuration) }
        guard case .failure(let message) = error else {
            Issue.record("expected .failure, got \(error)")
            return
        }
        #expect(message.contains("refused user \(configuration.username): wrong password"), "\(message)")
        #expect(message.contains("check the user name and password"), "\(message)")
        #expect(!message.contains("not-the-password"))
        #expect(!error.description.contains("not-the-password"))
    }

    @Test func aMissingDatabaseSaysHowToCreateIt() async throws {
        var configuration = try TestPostgres.configuration()
        configuration.database = "sagactl_missing_\(UInt32.random(in: 0...UInt32.max))"
        let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore(configuration: configuration) }
        guard case .failure(let message) = error else {
            Issue.record("expected .failure, got \(error)")
            return
        }
        #expect(message.contains("the database \(configuration.database) does not exist"), "\(message)")
        #expect(message.contains("createdb -h \(configuration.host) -p \(configuration.port) -U \(configuration.username) \(configuration.database)"), "\(message)")
        if let password = configuration.password { #expect(!message.contains(password)) }
    }

    /// `require` encrypts when the server offers TLS (scripts/postgres.sh turns it on) and fails
    /// clearly when it does not; `verify-full` refuses a certificate no trusted authority signed.
    @Test func tlsModesDoWhatTheySay() async throws {
        try await TestPostgres.withFreshSchema { base in
            let serverHasTLS = try await TestPostgres.admin(base) { connection in
                try await connection.rows("SHOW ssl", logger: TestPostgres.logger).map { try $0.decode(String.self) } == ["on"]
            }
            var require = base
            require.tlsMode = .require
            if serverHasTLS {
                let store = try await PostgresStore(configuration: require)
                #expect(try await store.migrate().to == PostgresStore.latestSchemaVersion)
                await store.close()
                let encrypted = try await TestPostgres.admin(require) { connection in
                    try await connection.rows(
                        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: TestPostgres.logger
                    ).map { try $0.decode(Bool.self) }
                }
                #expect(encrypted == [true])
                var verify = base
                verify.tlsMode = .verifyFull
                let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore(configuration: verify) }
                #expect(error.description.contains("TLS handshake"), "\(error)")
            } else {
                let error = try await #require(throws: StoreError.self) { _ = try await PostgresStore(configuration: require) }
                #expect(error.description.contains("does not accept TLS connections"), "\(error)")
            }
        }
    }
}

/// A store being opened in a task of its own, to tell whether opening finishes while the test
/// holds a lock, and what it says while it waits.
private final class OpeningStore: @unchecked Sendable {
    // @unchecked: `opened` and `told` are read and written only while holding `lock`.
    private let lock = NSLock()
    private var opened = false
    private var told: [String] = []
    private var task: Task<PostgresStore, any Error>!

    var isOpen: Bool { lock.withLock { opened } }
    /// What opening said while it waited.
    var messages: [String] { lock.withLock { told } }

    init(_ configuration: PostgresStore.Configuration) {
        task = Task {
            let store = try await PostgresStore(configuration: configuration) { message in
                self.lock.withLock { self.told.append(message) }
            }
            self.lock.withLock { self.opened = true }
            return store
        }
    }

    /// Whether, within `limit`, opening said something or the store is open.
    func saysOrOpens(within limit: Duration) async throws -> Bool {
        try await waits(within: limit) { self.isOpen || !self.messages.isEmpty }
    }

    /// Whether the store is open within `limit` (false when opening failed: `store()` throws).
    func opens(within limit: Duration) async throws -> Bool {
        try await waits(within: limit) { self.isOpen }
    }

    func store() async throws -> PostgresStore { try await task.value }

    private func waits(within limit: Duration, until done: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while !done(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return done()
    }
}

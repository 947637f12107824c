import Foundation
import Interpreter
import PostgresNIO
@testable import PostgresStore
import StateLang
import Testing

/// The batch writer's isolation of one failing transition, which the public API cannot
/// provoke: a row that breaks a constraint half-way through a transition, and a deadlock with
/// another transaction, each undo that transition alone while the rest of the batch commits.
@Suite("PostgreSQL group commit batches", .enabled(if: TestPostgres.isIncluded, "needs PostgreSQL: SAGACTL_TEST_POSTGRES_URL"))
struct PostgresTransitionBatchTests {
    /// Seeds three held instances and returns `apply` requests moving each cursor to "moved".
    func seedAndEncode(_ configuration: PostgresStore.Configuration) async throws -> [EncodedTransition] {
        let store = try await PostgresStore(configuration: configuration)
        let records = (0..<3).map { Fixtures.instance("i-\($0)", owner: Fixtures.alice, leaseExpires: 60) }
        try await store.seed(records)
        await store.close()
        return try records.map { record in
            var next = record
            next.cursor = "moved"
            return try EncodedTransition(.apply, Transition(instance: next, steps: [Fixtures.step(record.id, 1)]))
        }
    }

    func cursorsAndSteps(_ configuration: PostgresStore.Configuration) async throws -> ([String], [String]) {
        try await TestPostgres.admin(configuration) { connection in
            let cursors = try await connection.rows("SELECT cursor FROM instances ORDER BY id", logger: TestPostgres.logger)
                .map { try $0.decode(String.self) }
            let steps = try await connection.rows(
                "SELECT instance_id || '/' || seq FROM steps ORDER BY instance_id, seq", logger: TestPostgres.logger
            ).map { try $0.decode(String.self) }
            return (cursors, steps)
        }
    }

    @Test func aTransitionFailingHalfWayIsUndoneAloneAndTheBatchCommits() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            var requests = try await seedAndEncode(configuration)
            // The middle one: its instance update succeeds, then a step row with a NULL state
            // name breaks NOT NULL. The batch's one statement fails; written again transition
            // by transition, only that transition fails.
            var broken = Fixtures.step("i-1", 2).cells
            broken[2] = .text(nil)  // state_name
            requests[1].stepRows.append(broken)
            let batch = requests
            let results = try await TestPostgres.admin(configuration) { connection in
                await PostgresTransitionBatch.write(batch, on: connection, logger: TestPostgres.logger)
            }
            #expect(results.count == 3)
            for n in [0, 2] {
                guard case .done(.applied) = results[n] else {
                    Issue.record("request \(n): \(results[n])")
                    continue
                }
            }
            guard case .failed(let error) = results[1] else {
                Issue.record("request 1 should fail: \(results[1])")
                return
            }
            let message = StoreError.postgres(error, configuration).description
            #expect(message.contains("23502"), "\(message)")  // not_null_violation

            let (cursors, steps) = try await cursorsAndSteps(configuration)
            #expect(cursors == ["moved", #"{"state":"Reserve"}"#, "moved"])
            #expect(steps == ["i-0/1", "i-2/1"])
        }
    }

    /// On the per-transition path (`writeEach`, the fallback of a failed batch statement):
    /// another transaction holds i-1 and then waits for a row the batch holds: PostgreSQL breaks
    /// the deadlock by failing the batch's statement (its wait began first, so its deadlock check
    /// runs first). Only that transition is rolled back, marked for a retry in a later batch; the
    /// others commit, which lets the other transaction finish.
    @Test func aDeadlockedTransitionIsRolledBackAloneForARetry() async throws {
        try await deadlock(writing: PostgresTransitionBatch.writeEach, as: "sagactl-test-write-each") { written, cursors, steps in
            guard case .done(.applied) = written[0], case .retry(let error) = written[1], case .done(.applied) = written[2]
            else {
                Issue.record("expected applied, retry, applied: \(written)")
                return
            }
            #expect((error as? PSQLError)?.sqlState == SQLState.deadlockDetected)
            #expect(cursors == ["other", "other", "moved"])
            #expect(steps == ["i-0/1", "i-2/1"])
        }
    }

    /// The same deadlock on the batch's one statement: the whole batch is rolled back, which
    /// lets the other transaction finish, and written again transition by transition. Usually
    /// the other transaction has committed by then and every transition is applied, once; on a
    /// loaded machine the transition-by-transition pass can meet the same deadlock while the
    /// other transaction is still finishing, and then i-1 alone is rolled back and marked for a
    /// retry in a later batch (as on the per-transition path above). Never written twice, never
    /// failed for good.
    @Test func aDeadlockedBatchStatementIsWrittenAgainTransitionByTransition() async throws {
        try await deadlock(writing: PostgresTransitionBatch.write, as: "sagactl-test-write") { written, cursors, steps in
            for n in [0, 2] {
                guard case .done(.applied) = written[n] else {
                    Issue.record("request \(n): \(written[n])")
                    return
                }
            }
            switch written[1] {
            case .done(.applied):
                #expect(cursors[1] == "moved")
                #expect(steps == ["i-0/1", "i-1/1", "i-2/1"])
            case .retry(let error):
                #expect((error as? PSQLError)?.sqlState == SQLState.deadlockDetected, "\(error)")
                #expect(cursors[1] == "other")
                #expect(steps == ["i-0/1", "i-2/1"])
            default:
                Issue.record("request 1: \(written[1])")
            }
            // i-0 was written by the batch, and possibly overwritten by the other transaction after.
            #expect(["moved", "other"].contains(cursors[0]))
            #expect(cursors[2] == "moved")
        }
    }

    /// Another transaction takes i-1, `writer` writes the batch and blocks on i-1, then the other
    /// transaction waits for i-0, which the batch holds, and commits once it gets it.
    /// `applicationName` tells this case's batch connection from those of cases running alongside.
    ///
    /// PostgreSQL fails the transaction whose deadlock check runs while the cycle exists: the
    /// batch's, a second after its wait began, when the other transaction's request comes
    /// sooner. On a loaded machine it can come later; then the other transaction is the victim,
    /// the case proves nothing, and it runs again (three times at most).
    func deadlock(
        writing writer: @escaping @Sendable ([EncodedTransition], PostgresConnection, Logger) async
            -> [PostgresTransitionBatch.Result],
        as applicationName: String,
        _ check: ([PostgresTransitionBatch.Result], [String], [String]) -> Void
    ) async throws {
        for _ in 1...3 {
            if try await deadlockOnce(writing: writer, as: applicationName, check) { return }
        }
        Issue.record("PostgreSQL failed the other transaction, not the batch, in three tries out of three")
    }

    /// One try of `deadlock`; false when the other transaction was the deadlock's victim.
    private func deadlockOnce(
        writing writer: @escaping @Sendable ([EncodedTransition], PostgresConnection, Logger) async
            -> [PostgresTransitionBatch.Result],
        as applicationName: String,
        _ check: ([PostgresTransitionBatch.Result], [String], [String]) -> Void
    ) async throws -> Bool {
        try await TestPostgres.withFreshSchema { configuration in
            let requests = try await seedAndEncode(configuration)
            let other = try await PostgresConnection.connect(
                configuration: try configuration.connectionConfiguration(), id: 7, logger: TestPostgres.logger)
            let logger = TestPostgres.logger
            let batch = requests
            var otherWasTheVictim = false
            do {
                try await other.rows("BEGIN", logger: logger)
                try await other.rows("UPDATE instances SET cursor = 'other' WHERE id = 'i-1'", logger: logger)
                async let results = TestPostgres.admin(configuration) { connection in
                    try await connection.rows(PostgresQuery(unsafeSQL: "SET application_name = '\(applicationName)'"), logger: logger)
                    return await writer(batch, connection, logger)
                }
                // Wait (bounded) until the batch is blocked on i-1, then close the cycle.
                let blocked = try await TestPostgres.admin(configuration) { connection in
                    let deadline = Date().addingTimeInterval(30)
                    while Date() < deadline {
                        let waiting = try await connection.rows(
                            """
                            SELECT count(*) FROM pg_stat_activity
                            WHERE application_name = \(applicationName) AND datname = current_database() AND wait_event_type = 'Lock'
                            """, logger: logger
                        ).map { try $0.decode(Int.self) }
                        if waiting == [1] { return true }
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return false
                }
                try #require(blocked, "the batch never waited for the row the other transaction holds")
                do {
                    try await other.rows("UPDATE instances SET cursor = 'other' WHERE id = 'i-0'", logger: logger)
                    try await other.rows("COMMIT", logger: logger)
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "40P01" {
                    otherWasTheVictim = true
                }
                try await other.close()
                let written = try await results
                if otherWasTheVictim { return false }
                let (cursors, steps) = try await cursorsAndSteps(configuration)
                check(written, cursors, steps)
                return true
            } catch {
                // A connection must be closed before it goes (PostgresNIO asserts it); it may be
                // closed already, and the error to report is the first one.
                try? await other.close()
                throw error
            }
        }
    }

    /// The fence in the batch statement: a transition naming a stale owner is refused, and the
    /// refusal (with the holder) reaches that request only; its steps and outbox message are not
    /// written, the others' are.
    @Test func aStaleOwnersTransitionIsRefusedAloneInTheBatchStatement() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            var requests = try await seedAndEncode(configuration)
            var stale = Fixtures.instance("i-1", owner: Fixtures.bob, leaseExpires: 60)
            stale.cursor = "stale"
            requests[1] = try EncodedTransition(.apply, Transition(instance: stale, steps: [Fixtures.step("i-1", 1)]))
            for n in 0..<3 { requests[n].outboxRows = [ConformanceOutboxTests.message("m-\(n)", instance: "i-\(n)").insertCells] }
            let batch = requests
            let results = try await TestPostgres.admin(configuration) { connection in
                await PostgresTransitionBatch.write(batch, on: connection, logger: TestPostgres.logger)
            }
            guard case .done(.applied) = results[0], case .failed(let error) = results[1], case .done(.applied) = results[2]
            else {
                Issue.record("expected applied, failed, applied: \(results)")
                return
            }
            guard case .leaseLost(instance: "i-1", let holder)? = error as? StoreError else {
                Issue.record("expected leaseLost for i-1: \(error)")
                return
            }
            #expect(holder == Fixtures.alice.description)
            let (cursors, steps) = try await cursorsAndSteps(configuration)
            #expect(cursors == ["moved", #"{"state":"Reserve"}"#, "moved"])
            #expect(steps == ["i-0/1", "i-2/1"])
            let messages = try await TestPostgres.admin(configuration) { connection in
                try await connection.rows("SELECT id FROM outbox ORDER BY id", logger: TestPostgres.logger)
                    .map { try $0.decode(String.self) }
            }
            #expect(messages == ["m-0", "m-2"])
        }
    }

    /// Creates in one batch statement: a new instance is created; one whose business key is
    /// taken (by an instance of an earlier batch, or of the same batch) gets that instance; one
    /// whose definition is missing fails alone.
    @Test func createsInOneBatchAreEachAnsweredForThemselves() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            let store = try await PostgresStore(configuration: configuration)
            try await store.seed([Fixtures.instance("old", businessKey: "k-old")])
            await store.close()
            var orphan = Fixtures.instance("orphan")
            orphan.definitionFingerprint = "fp-missing"
            let requests = try [
                Fixtures.instance("new"), Fixtures.instance("dup-old", businessKey: "k-old"), orphan,
                Fixtures.instance("first", businessKey: "k-new"), Fixtures.instance("second", businessKey: "k-new"),
            ].map { try EncodedTransition(.create, Transition(instance: $0, steps: [Fixtures.step($0.id, 1)])) }
            let results = try await TestPostgres.admin(configuration) { connection in
                await PostgresTransitionBatch.write(requests, on: connection, logger: TestPostgres.logger)
            }
            guard case .done(.created) = results[0], case .done(.existing(let old)) = results[1],
                case .failed(let error) = results[2], case .done(.created) = results[3],
                case .done(.existing(let first)) = results[4]
            else {
                Issue.record("expected created, existing, failed, created, existing: \(results)")
                return
            }
            #expect(old.id == "old")
            #expect(first.id == "first")
            guard case .definitionNotFound(fingerprint: "fp-missing")? = error as? StoreError else {
                Issue.record("expected definitionNotFound: \(error)")
                return
            }
            let steps = try await TestPostgres.admin(configuration) { connection in
                try await connection.rows(
                    "SELECT instance_id || '/' || seq FROM steps ORDER BY instance_id, seq", logger: TestPostgres.logger
                ).map { try $0.decode(String.self) }
            }
            #expect(steps == ["first/1", "new/1"])
        }
    }
}

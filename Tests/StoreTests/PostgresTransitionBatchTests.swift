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
            // name breaks NOT NULL.
            var broken = PostgresBindings()
            for value: String? in ["i-1", nil] { broken.append(value) }
            requests[1].stepQueries.append(PostgresQuery(
                unsafeSQL: "INSERT INTO steps (instance_id, state_name) VALUES ($1, $2)", binds: broken))
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

    /// Another transaction holds i-1 and then waits for a row the batch holds: PostgreSQL breaks
    /// the deadlock by failing the batch's statement (its wait began first, so its deadlock check
    /// runs first). Only that transition is rolled back, marked for a retry in a later batch; the
    /// others commit, which lets the other transaction finish.
    @Test func aDeadlockedTransitionIsRolledBackAloneForARetry() async throws {
        try await TestPostgres.withFreshSchema { configuration in
            let requests = try await seedAndEncode(configuration)
            let other = try await PostgresConnection.connect(
                configuration: try configuration.connectionConfiguration(), id: 7, logger: TestPostgres.logger)
            let logger = TestPostgres.logger
            try await other.rows("BEGIN", logger: logger)
            try await other.rows("UPDATE instances SET cursor = 'other' WHERE id = 'i-1'", logger: logger)
            let batch = requests
            async let results = TestPostgres.admin(configuration) { connection in
                try await connection.rows("SET application_name = 'sagactl-test-batch'", logger: logger)
                return await PostgresTransitionBatch.write(batch, on: connection, logger: logger)
            }
            // Wait (bounded) until the batch is blocked on i-1, then close the cycle.
            let deadline = Date().addingTimeInterval(30)
            var blocked = false
            while !blocked, Date() < deadline {
                blocked = try await TestPostgres.admin(configuration) { connection in
                    try await connection.rows(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = 'sagactl-test-batch' AND datname = current_database() AND wait_event_type = 'Lock'
                        """, logger: logger
                    ).map { try $0.decode(Int.self) } == [1]
                }
                if !blocked { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(blocked, "the batch never waited for the row the other transaction holds")
            try await other.rows("UPDATE instances SET cursor = 'other' WHERE id = 'i-0'", logger: logger)
            try await other.rows("COMMIT", logger: logger)
            try await other.close()

            let written = try await results
            guard case .done(.applied) = written[0], case .retry(let error) = written[1], case .done(.applied) = written[2]
            else {
                Issue.record("expected applied, retry, applied: \(written)")
                return
            }
            #expect((error as? PSQLError)?.sqlState == SQLState.deadlockDetected)
            let (cursors, steps) = try await cursorsAndSteps(configuration)
            #expect(cursors == ["other", "other", "moved"])
            #expect(steps == ["i-0/1", "i-2/1"])
        }
    }
}

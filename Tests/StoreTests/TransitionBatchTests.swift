import Foundation
import GRDB
import Interpreter
@testable import SQLiteStore
import StateLang
import Testing

/// The batch writer's isolation of one failing transition, which the public API cannot
/// provoke (every record it accepts encodes to valid rows): a row that breaks a constraint
/// half-way through a transition is undone alone, the rest of the batch commits.
@Suite("SQLite group commit batches")
struct TransitionBatchTests {
    @Test func aTransitionFailingHalfWayIsUndoneAloneAndTheBatchCommits() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let store = try SQLiteInstanceStore(path: path)
            let records = (0..<3).map { Fixtures.instance("i-\($0)", owner: Fixtures.alice, leaseExpires: 60) }
            try await store.seed(records)
            try store.close()

            var requests: [EncodedTransition] = []
            for record in records {
                var next = record
                next.cursor = "moved"
                requests.append(try EncodedTransition(.apply, Transition(instance: next, steps: [Fixtures.step(record.id, 1)])))
            }
            // The middle one: its instance update and first step succeed, then a step row
            // with a NULL state name breaks NOT NULL.
            let broken: [SQLiteRow.Value] = [
                .text("i-1"), .integer(2), .null, .text("forward"), .null, .null, .integer(1), .text("RU"), .integer(0),
                .text("{}"), .null, .null, .null, .null, .text("key"), .null, .real(Fixtures.t0.timeIntervalSince1970),
                .null, .null, .null,
            ]
            requests[1].stepRows.append(SQLiteRow(broken))

            let queue = try DatabaseQueue(path: path)
            defer {
                do { try queue.close() } catch { Issue.record("closing: \(error)") }
            }
            let batch = requests
            let results = try await queue.writeWithoutTransaction { db in
                TransitionBatch.write(batch, to: db).map { result in
                    result.mapError { StoreError.sqlite($0, path: path, busyTimeout: 5) }
                }
            }
            #expect(results.count == 3)
            for n in [0, 2] {
                guard case .success(.applied) = results[n] else {
                    Issue.record("request \(n): \(results[n])")
                    continue
                }
            }
            guard case .failure(.failure(let message)) = results[1] else {
                Issue.record("request 1 should fail: \(results[1])")
                return
            }
            #expect(message.contains("NOT NULL"))

            let cursors = try await queue.read { db in
                try String.fetchAll(db, sql: "SELECT cursor FROM instances ORDER BY id")
            }
            #expect(cursors == ["moved", records[1].cursor, "moved"])
            let steps = try await queue.read { db in
                try String.fetchAll(db, sql: "SELECT instance_id || '/' || seq FROM steps ORDER BY instance_id, seq")
            }
            #expect(steps == ["i-0/1", "i-2/1"])
        }
    }
}

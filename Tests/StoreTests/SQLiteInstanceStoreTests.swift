import Foundation
import GRDB
import Interpreter
import SQLiteStore
import StateLang
import Testing

/// What only the SQLite store has: a file, its settings, its refusals, its locks.
@Suite("SQLite store")
struct SQLiteInstanceStoreTests {
    @Test(arguments: [(SQLiteInstanceStore.Durability.full, 2), (.normal, 1)])
    func settingsAreWALAndTheChosenDurability(durability: SQLiteInstanceStore.Durability, synchronous: Int)
        async throws
    {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let store = try SQLiteInstanceStore(path: path, durability: durability)
            defer { closeAtEnd(store) }
            let settings = try await store.settings()
            #expect(settings.journalMode == "wal")
            #expect(settings.synchronous == synchronous)
            #expect(settings.schemaVersion >= 1)
            #expect(store.durability == durability)
        }
    }

    @Test func defaultDurabilityIsFull() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteInstanceStore(path: directory.appending(path: "s.sqlite").path)
            defer { closeAtEnd(store) }
            #expect(try await store.settings().synchronous == 2)
        }
    }

    @Test func dataSurvivesClosingAndReopening() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            var record = Fixtures.fullInstance("i-1")
            let steps = [Fixtures.fullStep("i-1", 1), Fixtures.step("i-1", 2)]
            do {
                let store = try SQLiteInstanceStore(path: path)
                try await store.saveDefinition(Fixtures.definition)
                #expect(try await store.createInstance(Transition(instance: record, steps: [steps[0]])) == .created)
                record.cursor = "after"
                record.status = .compensated
                try await store.apply(Transition(instance: record, steps: [steps[1]]))
                // Finishing releases the lease: its expiry becomes the transition's time.
                record.leaseExpiresAt = record.updatedAt
                try store.close()
                try store.close()  // harmless
                await #expect(throws: StoreError.failure("the store at \(path) is closed")) {
                    try await store.apply(Transition(instance: record))
                }
                await #expect(throws: StoreError.failure("the store at \(path) is closed")) {
                    _ = try await store.instance(id: "i-1")
                }
            }
            let reopened = try SQLiteInstanceStore(path: path)
            defer { closeAtEnd(reopened) }
            expectSame(try await reopened.instance(id: "i-1"), record)
            expectSame(try await reopened.steps(of: "i-1"), steps)
            #expect(try await reopened.definition(fingerprint: Fixtures.definition.fingerprint) != nil)
            #expect(try await reopened.settings().synchronous == 2)
        }
    }

    /// 500 concurrent calls take fewer transactions than calls, and are all on disk afterwards.
    @Test func concurrentAppliesShareTransactions() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let records = (0..<500).map {
                Fixtures.instance(String(format: "i-%04d", $0), owner: Fixtures.alice, leaseExpires: 60)
            }
            do {
                let store = try SQLiteInstanceStore(path: path)
                try await store.seed(records)
                let before = store.commitStatistics
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for record in records {
                        group.addTask {
                            var next = record
                            next.cursor = "done"
                            try await store.apply(Transition(instance: next, steps: [Fixtures.step(record.id, 1)]))
                        }
                    }
                    try await group.waitForAll()
                }
                let after = store.commitStatistics
                #expect(after.transitions - before.transitions == 500)
                #expect(after.batches - before.batches < 500)
                try store.close()
            }
            let reopened = try SQLiteInstanceStore(path: path)
            defer { closeAtEnd(reopened) }
            for record in records {
                #expect(try await reopened.instance(id: record.id)?.cursor == "done")
                #expect(try await reopened.steps(of: record.id).count == 1)
            }
        }
    }

    /// Transitions of callers alone in their process commit on the caller's thread; mixed
    /// with callers that expect company, whichever arrives during such a write still gets a
    /// drain: all are on disk, none waits forever.
    @Test func loneAndBatchedCallersMixWithoutLosingAWrite() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let records = (0..<300).map {
                Fixtures.instance(String(format: "i-%04d", $0), owner: Fixtures.alice, leaseExpires: 60)
            }
            let store = try SQLiteInstanceStore(path: path)
            defer { closeAtEnd(store) }
            try await store.seed(records)
            let before = store.commitStatistics
            // One alone first: nothing else is pending, so it is written inline, as one batch.
            var first = records[0]
            first.cursor = "done"
            try await store.apply(Transition(instance: first, steps: [Fixtures.step(first.id, 1)], company: .alone))
            #expect(store.commitStatistics.batches - before.batches == 1)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (n, record) in records.enumerated().dropFirst() {
                    group.addTask {
                        var next = record
                        next.cursor = "done"
                        try await store.apply(Transition(
                            instance: next, steps: [Fixtures.step(record.id, 1)], company: n % 3 == 0 ? .alone : .expected))
                    }
                }
                try await group.waitForAll()
            }
            #expect(store.commitStatistics.transitions - before.transitions == 300)
            for record in records {
                #expect(try await store.instance(id: record.id)?.cursor == "done")
                #expect(try await store.steps(of: record.id).count == 1)
            }
        }
    }

    /// A caller that queues while a lone caller's inline write waits for the lock is drained
    /// once that write ends (the inline writer hands over to a drain; nothing else would).
    @Test func aCallerQueuedBehindAnInlineWriteIsDrained() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            // Closed at the end only if the test passes: `close()` waits for every accepted
            // caller, so with the defect this test looks for it would never return.
            let store = try SQLiteInstanceStore(path: path, busyTimeout: 20)
            let records = [Fixtures.instance("i-1"), Fixtures.instance("i-2")]
            try await store.seed(records)
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            let holder = try DatabaseQueue(path: path, configuration: configuration)
            try await holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            let updated = records.map { record -> InstanceRecord in
                var next = record
                next.cursor = "done"
                return next
            }
            // The lone write starts and waits for the lock on its own thread; then the other
            // caller queues behind it. (Under load the order may differ; the test then covers
            // less but still holds.)
            let lone = Task { try await store.apply(Transition(instance: updated[0], company: .alone)) }
            try await Task.sleep(for: .milliseconds(300))
            let queued = Task { try await store.apply(Transition(instance: updated[1])) }
            try await Task.sleep(for: .milliseconds(300))
            try await holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try holder.close()
            try await lone.value
            // Polled through a reader, so that a caller never drained fails the test instead
            // of hanging it.
            let deadline = ContinuousClock.now + .seconds(30)
            var finished = false
            while !finished, ContinuousClock.now < deadline {
                finished = try await store.instance(id: "i-2")?.cursor == "done"
                if !finished { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(finished, "the queued caller was not drained within 30 s")
            guard finished else { return }
            try await queued.value
            #expect(try await store.instance(id: "i-2")?.cursor == "done")
            try store.close()
        }
    }

    /// `apply` first tries the update that leaves `status` and `wake_at` (and so their
    /// indexes) alone, then the full one: transitions that keep them, change them, or come
    /// from a stale owner all end as they should, and the indexed queries agree with the rows.
    @Test func updatesThatKeepOrChangeIndexedColumns() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteInstanceStore(path: directory.appending(path: "s.sqlite").path)
            defer { closeAtEnd(store) }
            var record = Fixtures.instance("i-1", owner: Fixtures.alice, leaseExpires: 60)
            try await store.seed([record])

            record.cursor = #"{"state":"Pay"}"#
            record.context = ["productId": 1, "paid": true]
            record.updatedAt = Fixtures.at(1)
            try await store.apply(Transition(instance: record))
            expectSame(try await store.instance(id: "i-1"), record)

            record.wakeAt = Fixtures.at(30)
            record.updatedAt = Fixtures.at(2)
            try await store.apply(Transition(instance: record))
            expectSame(try await store.instance(id: "i-1"), record)

            record.wakeAt = nil
            record.status = .succeeded
            record.forwardStatus = .succeeded
            record.endedAt = Fixtures.at(3)
            record.updatedAt = Fixtures.at(3)
            record.leaseExpiresAt = Fixtures.at(3)
            try await store.apply(Transition(instance: record))
            expectSame(try await store.instance(id: "i-1"), record)
            #expect(try await store.listInstances(InstanceQuery(status: .succeeded)).map(\.id) == ["i-1"])
            #expect(try await store.listInstances(InstanceQuery(status: .running)).isEmpty)

            // A stale owner is refused whether or not its transition keeps the status.
            var stale = record
            stale.leaseOwner = Fixtures.bob
            stale.cursor = "stale"
            await #expect(throws: StoreError.leaseLost(instance: "i-1", holder: Fixtures.alice.description)) {
                try await store.apply(Transition(instance: stale))
            }
            stale.status = .failed
            await #expect(throws: StoreError.leaseLost(instance: "i-1", holder: Fixtures.alice.description)) {
                try await store.apply(Transition(instance: stale))
            }
            expectSame(try await store.instance(id: "i-1"), record)
        }
    }

    @Test func twoStoresOnOneFileNeverClaimTheSameInstance() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let first = try SQLiteInstanceStore(path: path)
            defer { closeAtEnd(first) }
            let second = try SQLiteInstanceStore(path: path)
            defer { closeAtEnd(second) }
            let records = (0..<300).map { Fixtures.instance(String(format: "i-%04d", $0), created: Double($0)) }
            try await first.seed(records)
            let claims = try await claimConcurrently(stores: [first, second], tasksPerStore: 4)
            #expect(claims.count == records.count)
            #expect(Set(claims.values.map(\.pid)).count > 1)
        }
    }

    @Test func refusesAnotherApplicationsDatabaseAndLeavesItUnchanged() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "other.sqlite").path
            let other = try DatabaseQueue(path: path)
            try await other.write { db in
                try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
                try db.execute(sql: "INSERT INTO invoices (total) VALUES (12.5)")
            }
            try other.close()
            let bytes = try Data(contentsOf: URL(filePath: path))

            let error = try #require(throws: StoreError.self) { try SQLiteInstanceStore(path: path) }
            guard case .incompatible(let message) = error else {
                Issue.record("expected .incompatible, got \(error)")
                return
            }
            #expect(message.contains(path))
            #expect(message.contains("is not a sagactl database"))
            #expect(try Data(contentsOf: URL(filePath: path)) == bytes)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test func refusesATextFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "notes.sqlite").path
            let text = "these are my notes, not a database\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)

            let error = try #require(throws: StoreError.self) { try SQLiteInstanceStore(path: path) }
            guard case .incompatible(let message) = error else {
                Issue.record("expected .incompatible, got \(error)")
                return
            }
            #expect(message.contains(path))
            #expect(message.contains("not a sagactl database"))
            #expect(message.contains("--db"))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        }
    }

    @Test func refusesADatabaseWithADamagedHeader() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            try SQLiteInstanceStore(path: path).close()
            let handle = try FileHandle(forUpdating: URL(filePath: path))
            try handle.write(contentsOf: Data(repeating: 0x5A, count: 100))
            try handle.close()

            let error = try #require(throws: StoreError.self) { try SQLiteInstanceStore(path: path) }
            switch error {
            case .incompatible(let message), .failure(let message):
                #expect(message.contains(path))
            default:
                Issue.record("expected .incompatible or .failure, got \(error)")
            }
        }
    }

    @Test func refusesADatabaseFromANewerSagactl() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let current = try SQLiteInstanceStore(path: path)
            let version = try await current.settings().schemaVersion
            try current.close()
            let raw = try DatabaseQueue(path: path)
            try await raw.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(version + 1)") }
            try raw.close()

            let error = try #require(throws: StoreError.self) { try SQLiteInstanceStore(path: path) }
            guard case .incompatible(let message) = error else {
                Issue.record("expected .incompatible, got \(error)")
                return
            }
            #expect(message.contains(path))
            #expect(message.contains("upgrade sagactl"))
        }
    }

    /// Another connection (standing in for another process) holds the write lock: writes
    /// give `.busy` after the configured busy timeout, not before; reads go on.
    @Test func aHeldWriteLockGivesBusyWithinTheTimeout() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "s.sqlite").path
            let timeout: TimeInterval = 0.3
            let store = try SQLiteInstanceStore(path: path, busyTimeout: timeout)
            defer { closeAtEnd(store) }
            let record = Fixtures.instance("i-1")
            try await store.seed([record])

            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true  // the lock outlives one access
            let holder = try DatabaseQueue(path: path, configuration: configuration)
            try await holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }

            var next = record
            next.cursor = "blocked"
            let started = Date()
            let error = try await #require(throws: StoreError.self) { try await store.apply(Transition(instance: next)) }
            let waited = Date().timeIntervalSince(started)
            guard case .busy(let message) = error else {
                Issue.record("expected .busy, got \(error)")
                return
            }
            #expect(message.contains(path))
            #expect(message.contains("is locked by another process"))
            #expect(waited >= timeout * 0.9)
            // That it gives up at the configured timeout, not the 5 s default, is read from
            // SQLite rather than timed: its busy handler counts the sleeps it asks for, and on
            // a loaded machine every one overruns (6.8 s of waiting for 0.3 s in a CI dry run).
            #expect(try await store.settings().busyTimeoutMilliseconds == 300)
            await #expect(throws: StoreError.self) {
                _ = try await store.claim(
                    owner: Fixtures.alice, now: Fixtures.at(10), leaseUntil: Fixtures.at(20), deadOwners: [], limit: 1)
            }
            // Readers do not wait for the writer.
            #expect(try await store.instance(id: "i-1")?.cursor == record.cursor)
            // Opening an up-to-date database reads only: `sagactl list` works while a worker
            // is stopped holding the lock (found by the chaos run, which pauses workers).
            let reader = try SQLiteInstanceStore(path: path, busyTimeout: timeout)
            #expect(try await reader.instance(id: "i-1")?.cursor == record.cursor)
            try reader.close()
            // A new file still needs the lock to create its schema.
            let fresh = directory.appending(path: "new.sqlite").path
            let creator = try DatabaseQueue(path: fresh, configuration: configuration)
            try await creator.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            let opening = try #require(throws: StoreError.self) { try SQLiteInstanceStore(path: fresh, busyTimeout: timeout) }
            guard case .busy = opening else {
                Issue.record("expected .busy creating a schema under a held lock, got \(opening)")
                return
            }
            try await creator.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try creator.close()

            try await holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try holder.close()
            try await store.apply(Transition(instance: next))
            #expect(try await store.instance(id: "i-1")?.cursor == "blocked")
        }
    }
}

/// Closes a store in a `defer`, recording a failure to close as an issue.
func closeAtEnd(_ store: SQLiteInstanceStore, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try store.close()
    } catch {
        Issue.record("closing \(store.path): \(error)", sourceLocation: sourceLocation)
    }
}

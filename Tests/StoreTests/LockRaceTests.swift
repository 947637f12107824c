import Foundation
import GRDB
import Interpreter
import Testing
@testable import SQLiteStore

/// SQLite's "locking protocol" error is a lock race in WAL mode (a chaos run hit it right after a
/// worker was killed): the store tries the operation again until its busy timeout has passed.
@Suite("SQLite store: lock races are retried")
struct LockRaceTests {
    static let race = DatabaseError(resultCode: .SQLITE_PROTOCOL, message: "locking protocol")

    @Test("A lock race is tried again until the operation succeeds")
    func retriedUntilSuccess() throws {
        var attempts = 0
        let value = try LockRace.retrying(for: 5) { () throws -> Int in
            attempts += 1
            if attempts < 3 { throw Self.race }
            return 42
        }
        #expect(value == 42)
        #expect(attempts == 3)
    }

    @Test("Other errors are not retried")
    func otherErrorsAreNot() {
        var attempts = 0
        #expect(throws: DatabaseError.self) {
            try LockRace.retrying(for: 5) { () throws -> Int in
                attempts += 1
                throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: "constraint failed")
            }
        }
        #expect(attempts == 1)
    }

    @Test("A race that outlasts the timeout is reported, as a database locked for too long")
    func givesUpAfterTheTimeout() async throws {
        let started = Date()
        var attempts = 0
        let error = #expect(throws: DatabaseError.self) {
            try LockRace.retrying(for: 0.05) { () throws -> Int in
                attempts += 1
                throw Self.race
            }
        }
        #expect(error?.resultCode == .SQLITE_PROTOCOL)
        #expect(attempts > 1)
        #expect(Date().timeIntervalSince(started) >= 0.05)
        guard case .busy(let message) = StoreError.sqlite(Self.race, path: "x.sqlite", busyTimeout: 5) else {
            Issue.record("a lock race that lasts is reported as a locked database")
            return
        }
        #expect(message.contains("x.sqlite is locked"))

        var asyncAttempts = 0
        await #expect(throws: DatabaseError.self) {
            try await LockRace.retrying(for: 0.05) { () async throws -> Int in
                asyncAttempts += 1
                throw Self.race
            }
        }
        #expect(asyncAttempts > 1)
    }

    @Test("The pause grows from 1 ms and stays at most 100 ms")
    func pauses() {
        #expect(LockRace.pause(before: 1) == 0.001)
        #expect(LockRace.pause(before: 2) == 0.002)
        #expect(LockRace.pause(before: 50) == 0.1)
    }
}

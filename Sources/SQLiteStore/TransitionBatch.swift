import GRDB
import Interpreter

/// A `createInstance` or `apply` request, encoded to statement arguments by the caller (on
/// its own task, in parallel), so that the single writer only binds and steps statements
/// (`SQLiteRow`, bound through SQLite's C API).
struct EncodedTransition: Sendable {
    enum Kind: Sendable {
        case create
        case apply
    }

    var kind: Kind
    var instanceID: InstanceID
    var businessKey: String?
    var definitionFingerprint: String
    /// `InstanceSQL.insert` arguments for `.create`, `InstanceSQL.update` ones for `.apply`.
    var instanceRow: SQLiteRow
    var stepRows: [SQLiteRow]
    var outboxRows: [SQLiteRow]
    var company: CommitCompany

    init(_ kind: Kind, _ transition: Transition) throws(StoreError) {
        try transition.checkStepsBelongToInstance()
        let instance = transition.instance
        self.kind = kind
        self.instanceID = instance.id
        self.businessKey = instance.businessKey
        self.definitionFingerprint = instance.definitionFingerprint
        self.instanceRow = kind == .create ? instance.insertRow : instance.updateRow
        self.stepRows = transition.steps.map(\.upsertRow)
        self.outboxRows = transition.outbox.map(\.insertRow)
        self.company = transition.company
    }
}

/// Writes a batch of transitions in one immediate transaction: one commit (one fsync with
/// `synchronous=FULL`) for the whole batch.
enum TransitionBatch {
    enum Outcome: Sendable {
        case applied
        case created
        // Boxed: an inline record would make every async frame that awaits an outcome ~400 bytes larger.
        indirect case existing(InstanceRecord)
    }

    /// One result per request, in order. A request that fails (lease lost, unknown instance,
    /// a constraint) is rolled back to its savepoint and fails alone; an error that aborts the
    /// transaction or the commit fails every request, and then nothing was written. A lone
    /// request needs no savepoint: its failure rolls back a transaction that holds nothing else
    /// (two statements fewer per commit at concurrency 1).
    /// A batch whose transaction fails with a lock race (`LockRace`) has written nothing and is
    /// tried again, for at most `lockRaceTimeout` seconds.
    static func write(_ requests: [EncodedTransition], to db: Database, lockRaceTimeout: Double = 5)
        -> [Result<Outcome, any Error>]
    {
        do {
            return try LockRace.retrying(for: lockRaceTimeout) { try writeInTransaction(requests, to: db) }
        } catch {
            return Array(repeating: .failure(error), count: requests.count)
        }
    }

    private static func writeInTransaction(_ requests: [EncodedTransition], to db: Database) throws
        -> [Result<Outcome, any Error>]
    {
        try inImmediateTransaction(db) {
            if requests.count == 1 { return [.success(try writeOne(requests[0], to: db))] }
            var results: [Result<Outcome, any Error>] = []
            results.reserveCapacity(requests.count)
            let begin = try db.cachedStatement(sql: "SAVEPOINT transition")
            let release = try db.cachedStatement(sql: "RELEASE transition")
            let rollback = try db.cachedStatement(sql: "ROLLBACK TO transition")
            for request in requests {
                try begin.execute()
                do {
                    results.append(.success(try writeOne(request, to: db)))
                    try release.execute()
                } catch {
                    // SQLite ends the whole transaction on some errors (I/O, disk full):
                    // then the requests before this one are gone too.
                    guard db.isInsideTransaction else { throw error }
                    try rollback.execute()
                    try release.execute()
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    /// `body` between BEGIN IMMEDIATE and COMMIT, rolled back when it or the commit fails, as
    /// GRDB's `inTransaction` does, but with cached statements: `inTransaction` prepares BEGIN
    /// and COMMIT anew each time, a few percent of a lone caller's CPU.
    private static func inImmediateTransaction<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
        do {
            let result = try body()
            try db.cachedStatement(sql: "COMMIT").execute()
            return result
        } catch {
            // Report the first error. A failing ROLLBACK adds nothing to it: SQLite has then
            // rolled back on its own, or the connection is unusable and the next BEGIN fails.
            if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
            throw error
        }
    }

    private static func writeOne(_ request: EncodedTransition, to db: Database) throws -> Outcome {
        let outcome: Outcome
        switch request.kind {
        case .apply:
            // Most transitions keep the status and the wake-up time: try the update that leaves
            // their indexes alone first.
            try db.cachedStatement(sql: InstanceSQL.updateKeepingIndexed).run(request.instanceRow, in: db)
            if db.changesCount == 0 {
                try db.cachedStatement(sql: InstanceSQL.update).run(request.instanceRow, in: db)
            }
            if db.changesCount == 0 {
                // The fence held the update back: tell a missing instance from a lost lease.
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: InstanceSQL.leaseOwnerByID), arguments: [request.instanceID])
                guard let row else { throw StoreError.instanceNotFound(request.instanceID) }
                throw StoreError.leaseLost(instance: request.instanceID, holder: try row.decode(atIndex: 0))
            }
            outcome = .applied
        case .create:
            if let key = request.businessKey,
                let row = try Row.fetchOne(db.cachedStatement(sql: InstanceSQL.byBusinessKey), arguments: [key])
            {
                return .existing(try InstanceRecord(row: row))
            }
            let definition = try Row.fetchOne(
                db.cachedStatement(sql: DefinitionSQL.exists), arguments: [request.definitionFingerprint])
            guard definition != nil else {
                throw StoreError.definitionNotFound(fingerprint: request.definitionFingerprint)
            }
            do {
                try db.cachedStatement(sql: InstanceSQL.insert).run(request.instanceRow, in: db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw StoreError.duplicateInstance(request.instanceID)
            }
            outcome = .created
        }
        if !request.stepRows.isEmpty {
            let upsert = try db.cachedStatement(sql: StepSQL.upsert)
            for row in request.stepRows {
                try upsert.run(row, in: db)
            }
        }
        if !request.outboxRows.isEmpty {
            let insert = try db.cachedStatement(sql: OutboxSQL.insertIfNew)
            for row in request.outboxRows {
                try insert.run(row, in: db)
            }
        }
        return outcome
    }
}

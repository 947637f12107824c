import Foundation
import Interpreter
import PostgresNIO

/// A `createInstance` or `apply` request, encoded to bindings by the caller (on its own task,
/// in parallel), so that the writer only sends statements.
struct EncodedTransition: Sendable {
    enum Kind: Sendable {
        case create
        case apply
    }

    var kind: Kind
    var instanceID: InstanceID
    var businessKey: String?
    var definitionFingerprint: String
    /// `InstanceRecord.insertCells` for `.create`, `updateCells` for `.apply`.
    var instanceCells: [SQLCell]
    /// `[StepRecord].upsertRows`.
    var stepRows: [[SQLCell]]
    /// Outbox messages written with the checkpoint (DESIGN §6), `OutboxMessage.insertCells`.
    var outboxRows: [[SQLCell]]
    /// Rows written: the instance row and the step rows.
    var rowCount: Int

    init(_ kind: Kind, _ transition: Transition) throws(StoreError) {
        try transition.checkStepsBelongToInstance()
        let instance = transition.instance
        self.kind = kind
        self.instanceID = instance.id
        self.businessKey = instance.businessKey
        self.definitionFingerprint = instance.definitionFingerprint
        self.instanceCells = kind == .create ? instance.insertCells : instance.updateCells
        self.stepRows = transition.steps.upsertRows
        self.outboxRows = transition.outbox.map(\.insertCells)
        self.rowCount = 1 + transition.steps.count
    }
}

/// Writes a batch of transitions in one transaction: one commit (one WAL flush) for the
/// whole batch, and few round trips.
///
/// The fast path is one `PostgresBatchStatement`, its own transaction; or, for a large batch
/// or one naming an instance twice, BEGIN, a few of them, COMMIT. A transition a statement held
/// back (its row matched no fence, or was not inserted) is then run alone in a savepoint, which
/// tells its reason (lease lost, unknown instance, missing definition, business key taken)
/// apart. When a statement fails (a constraint, a deadlock), the batch is rolled back and
/// written again transition by transition (`writeEach`), so that the failing transition fails
/// alone.
enum PostgresTransitionBatch {
    enum Outcome: Sendable {
        case applied
        case created
        case existing(InstanceRecord)
    }

    /// What became of one request of a batch.
    enum Result: Sendable {
        case done(Outcome)
        case failed(any Error)
        /// Rolled back by a deadlock or serialization failure: the same request will likely
        /// pass in a later transaction, once the other transaction has ended.
        case retry(any Error)
    }

    /// One result per request, in order. A request that fails (lease lost, unknown instance,
    /// a constraint) fails alone; an error outside the statements and savepoints (the
    /// connection, BEGIN, COMMIT) fails every request, and then nothing of the batch was
    /// written (or, for a lost connection during COMMIT, it is unknown whether it was).
    static func write(_ requests: [EncodedTransition], on connection: PostgresConnection, logger: Logger) async
        -> [Result]
    {
        let plan = PostgresBatchStatement.plan(requests)
        if plan.groups.count == 1, plan.alone.isEmpty {
            return await writeInOneStatement(requests, on: connection, logger: logger)
        }
        var results = [Result?](repeating: nil, count: requests.count)
        do {
            try await connection.rows("BEGIN", logger: logger)
        } catch {
            return Array(repeating: .failed(error), count: requests.count)
        }
        do {
            for group in plan.groups {
                let written = try await run(PostgresBatchStatement.query(group.map { requests[$0] }), on: connection, logger: logger)
                for index in group where written.contains(requests[index].instanceID) {
                    results[index] = .done(requests[index].kind == .create ? .created : .applied)
                }
            }
        } catch {
            await PostgresTransaction.rollback(connection, logger: logger)
            guard refusedByServer(error) else { return Array(repeating: .failed(error), count: requests.count) }
            // Which transition broke the statement is not known: write the batch again one
            // transition at a time, where each error reaches its own request.
            logger.debug("a batch statement failed; writing the batch transition by transition", metadata: ["error": "\(error)"])
            return await writeEach(requests, on: connection, logger: logger)
        }
        do {
            for index in requests.indices where results[index] == nil {
                results[index] = try await writeInSavepoint(requests[index], on: connection, logger: logger)
            }
            try await PostgresTransaction.commit(connection, logger: logger)
        } catch {
            await PostgresTransaction.rollback(connection, logger: logger)
            return Array(repeating: .failed(error), count: requests.count)
        }
        // Every slot was filled: by the statements, or by the loop above.
        return results.map { $0! }
    }

    /// A batch that fits one statement: that statement is its own transaction (one round trip,
    /// one WAL flush). The transitions it held back are then written in a transaction of their
    /// own, each in a savepoint; being held back, nothing of them was written before.
    private static func writeInOneStatement(
        _ requests: [EncodedTransition], on connection: PostgresConnection, logger: Logger
    ) async -> [Result] {
        let written: Set<InstanceID>
        do {
            written = try await run(PostgresBatchStatement.query(requests), on: connection, logger: logger)
        } catch {
            // A statement the server refused wrote nothing; any other error (the connection)
            // leaves it unknown whether it committed: then writing it again could apply it twice.
            guard refusedByServer(error) else { return Array(repeating: .failed(error), count: requests.count) }
            logger.debug("a batch statement failed; writing the batch transition by transition", metadata: ["error": "\(error)"])
            return await writeEach(requests, on: connection, logger: logger)
        }
        var results: [Result] = requests.map { .done($0.kind == .create ? .created : .applied) }
        let held = requests.indices.filter { !written.contains(requests[$0].instanceID) }
        guard !held.isEmpty else { return results }
        for (index, result) in zip(held, await writeEach(held.map { requests[$0] }, on: connection, logger: logger)) {
            results[index] = result
        }
        return results
    }

    /// Runs a `PostgresBatchStatement` query: the ids of the instances it wrote.
    private static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> Set<InstanceID>
    {
        Set(try await connection.rows(query, logger: logger).map { try $0.decode(String.self) })
    }

    /// Whether the server refused the statement (it then had no effect), rather than the
    /// connection failing.
    private static func refusedByServer(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo != nil
    }

    /// The per-transition path: one transaction, a savepoint and a few statements per
    /// transition. Results as `write`'s.
    static func writeEach(_ requests: [EncodedTransition], on connection: PostgresConnection, logger: Logger) async
        -> [Result]
    {
        var results: [Result] = []
        results.reserveCapacity(requests.count)
        do {
            try await PostgresTransaction.run(on: connection, logger: logger) { connection in
                for request in requests {
                    results.append(try await writeInSavepoint(request, on: connection, logger: logger))
                }
            }
        } catch {
            return Array(repeating: .failed(error), count: requests.count)
        }
        return results
    }

    /// Writes one request inside a savepoint; a failing request is rolled back to it and
    /// reported. Throws only when the savepoint itself fails: then the connection is gone,
    /// and the transaction with it.
    private static func writeInSavepoint(
        _ request: EncodedTransition, on connection: PostgresConnection, logger: Logger
    ) async throws -> Result {
        try await connection.rows("SAVEPOINT transition", logger: logger)
        do {
            let outcome = try await writeOne(request, on: connection, logger: logger)
            try await connection.rows("RELEASE transition", logger: logger)
            return .done(outcome)
        } catch {
            // A failed statement aborts the transaction up to the savepoint; when even this
            // fails the connection is gone and the batch with it.
            try await connection.rows("ROLLBACK TO transition", logger: logger)
            try await connection.rows("RELEASE transition", logger: logger)
            if let state = (error as? PSQLError)?.sqlState, SQLState.transient.contains(state) {
                return .retry(error)
            }
            return .failed(error)
        }
    }

    private static func writeOne(_ request: EncodedTransition, on connection: PostgresConnection, logger: Logger)
        async throws -> Outcome
    {
        let outcome: Outcome
        switch request.kind {
        case .apply:
            let updated = try await connection.rows(
                PostgresQuery(unsafeSQL: InstanceSQL.update, binds: PostgresBindings(cells: request.instanceCells)), logger: logger)
            if updated.isEmpty {
                // The fence held the update back: tell a missing instance from a lost lease.
                var binds = PostgresBindings()
                binds.append(request.instanceID)
                let rows = try await connection.rows(
                    PostgresQuery(unsafeSQL: InstanceSQL.leaseOwnerByID, binds: binds), logger: logger)
                guard let row = rows.first else { throw StoreError.instanceNotFound(request.instanceID) }
                var reader = RowReader(row)
                throw StoreError.leaseLost(instance: request.instanceID, holder: try reader.next(String?.self))
            }
            outcome = .applied
        case .create:
            if let key = request.businessKey, let existing = try await instance(businessKey: key, connection, logger) {
                return .existing(existing)
            }
            var fingerprint = PostgresBindings()
            fingerprint.append(request.definitionFingerprint)
            let definition = try await connection.rows(
                PostgresQuery(unsafeSQL: DefinitionSQL.exists, binds: fingerprint), logger: logger)
            guard !definition.isEmpty else {
                throw StoreError.definitionNotFound(fingerprint: request.definitionFingerprint)
            }
            let inserted: [PostgresRow]
            do {
                inserted = try await connection.rows(
                    PostgresQuery(unsafeSQL: InstanceSQL.insert, binds: PostgresBindings(cells: request.instanceCells)), logger: logger)
            } catch let error as PSQLError
                where error.sqlState == SQLState.uniqueViolation && error.serverInfo?[.constraintName] == "instances_pkey"
            {
                throw StoreError.duplicateInstance(request.instanceID)
            }
            if inserted.isEmpty {
                // Another transaction created the business key after the check above and
                // committed (the insert waited for it): that instance is the answer.
                guard let key = request.businessKey, let existing = try await instance(businessKey: key, connection, logger)
                else {
                    throw StoreError.failure(
                        "instance \(request.instanceID) was neither inserted nor found by its business key; "
                            + "this is a bug in sagactl, report it")
                }
                return .existing(existing)
            }
            outcome = .created
        }
        for query in request.stepRows.stepUpsertQueries {
            try await connection.rows(query, logger: logger)
        }
        for row in request.outboxRows {
            try await connection.rows(
                PostgresQuery(unsafeSQL: OutboxSQL.insertIfNew, binds: PostgresBindings(cells: row)), logger: logger)
        }
        return outcome
    }

    private static func instance(businessKey: String, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> InstanceRecord?
    {
        var binds = PostgresBindings()
        binds.append(businessKey)
        let rows = try await connection.rows(
            PostgresQuery(unsafeSQL: InstanceSQL.byBusinessKey, binds: binds), logger: logger)
        return try rows.first.map(InstanceRecord.init(row:))
    }
}

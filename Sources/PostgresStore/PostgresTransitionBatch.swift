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
    /// `InstanceSQL.insert` bindings for `.create`, `InstanceSQL.update` ones for `.apply`.
    var instanceBindings: PostgresBindings
    var stepQueries: [PostgresQuery]
    /// Outbox messages written with the checkpoint (DESIGN §6).
    var outboxQueries: [PostgresQuery]
    /// Rows written: the instance row and the step rows.
    var rowCount: Int

    init(_ kind: Kind, _ transition: Transition) throws(StoreError) {
        try transition.checkStepsBelongToInstance()
        let instance = transition.instance
        self.kind = kind
        self.instanceID = instance.id
        self.businessKey = instance.businessKey
        self.definitionFingerprint = instance.definitionFingerprint
        self.instanceBindings = kind == .create ? instance.insertBindings : instance.updateBindings
        self.stepQueries = transition.steps.upsertQueries
        self.outboxQueries = transition.outbox.map { PostgresQuery(unsafeSQL: OutboxSQL.insertIfNew, binds: $0.insertBindings) }
        self.rowCount = 1 + transition.steps.count
    }
}

/// Writes a batch of transitions in one transaction: one commit (one WAL flush) for the
/// whole batch, a savepoint per transition.
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
    /// a constraint) is rolled back to its savepoint and fails alone; an error outside the
    /// savepoints (the connection, BEGIN, COMMIT) fails every request, and then nothing of the
    /// batch was written (or, for a lost connection during COMMIT, it is unknown whether it was).
    static func write(_ requests: [EncodedTransition], on connection: PostgresConnection, logger: Logger) async
        -> [Result]
    {
        var results: [Result] = []
        results.reserveCapacity(requests.count)
        do {
            try await PostgresTransaction.run(on: connection, logger: logger) { connection in
                for request in requests {
                    try await connection.rows("SAVEPOINT transition", logger: logger)
                    do {
                        let outcome = try await writeOne(request, on: connection, logger: logger)
                        try await connection.rows("RELEASE transition", logger: logger)
                        results.append(.done(outcome))
                    } catch {
                        // A failed statement aborts the transaction up to the savepoint; when
                        // even this fails the connection is gone and the batch with it.
                        try await connection.rows("ROLLBACK TO transition", logger: logger)
                        try await connection.rows("RELEASE transition", logger: logger)
                        if let state = (error as? PSQLError)?.sqlState, SQLState.transient.contains(state) {
                            results.append(.retry(error))
                        } else {
                            results.append(.failed(error))
                        }
                    }
                }
            }
        } catch {
            return Array(repeating: .failed(error), count: requests.count)
        }
        return results
    }

    private static func writeOne(_ request: EncodedTransition, on connection: PostgresConnection, logger: Logger)
        async throws -> Outcome
    {
        let outcome: Outcome
        switch request.kind {
        case .apply:
            let updated = try await connection.rows(
                PostgresQuery(unsafeSQL: InstanceSQL.update, binds: request.instanceBindings), logger: logger)
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
                    PostgresQuery(unsafeSQL: InstanceSQL.insert, binds: request.instanceBindings), logger: logger)
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
        for query in request.stepQueries {
            try await connection.rows(query, logger: logger)
        }
        for query in request.outboxQueries {
            try await connection.rows(query, logger: logger)
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

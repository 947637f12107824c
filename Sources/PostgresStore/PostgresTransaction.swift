import Interpreter
import PostgresNIO

/// `BEGIN … COMMIT` on one connection, with the errors of the body thrown as they are (not
/// wrapped, as postgres-nio's `withTransaction` does), so that a `StoreError` raised inside
/// reaches the caller unchanged.
enum PostgresTransaction {
    static func run<T: Sendable>(
        on connection: PostgresConnection, logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await connection.rows("BEGIN", logger: logger)
        let value: T
        do {
            value = try await body(connection)
        } catch {
            await rollback(connection, logger: logger)
            throw error
        }
        try await commit(connection, logger: logger)
        return value
    }

    /// Commits, and checks that the server did: PostgreSQL answers COMMIT on a transaction an
    /// error has aborted with ROLLBACK, and no error.
    static func commit(_ connection: PostgresConnection, logger: Logger) async throws {
        let result = try await connection.query("COMMIT", logger: logger).get()
        guard result.metadata.command == "COMMIT" else {
            throw StoreError.failure(
                "PostgreSQL rolled the transaction back instead of committing it (it answered "
                    + "\(result.metadata.command)); nothing of it was written; this is a bug in sagactl, report it")
        }
    }

    /// Rolls back after a failure. When even that fails the connection is in an unknown state:
    /// it is closed, so that the pool replaces it, and the caller reports the first error (a
    /// closed connection ends the transaction on the server anyway).
    static func rollback(_ connection: PostgresConnection, logger: Logger) async {
        do {
            try await connection.rows("ROLLBACK", logger: logger)
        } catch {
            logger.debug("ROLLBACK failed; closing the connection", metadata: ["error": "\(String(describing: error))"])
            // Not awaited: the channel closes on its event loop, and a failure to close an
            // already broken connection changes nothing for the caller.
            let _: EventLoopFuture<Void> = connection.close()
        }
    }
}

extension PostgresConnection {
    /// Runs one statement and reads every row it returns. Reading to the end matters: an error
    /// raised while the server produces rows arrives in the row stream, not from `query`.
    @discardableResult
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(row) }
        return rows
    }
}

extension PostgresClient {
    /// As `PostgresConnection.rows`, on a connection of the pool.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(row) }
        return rows
    }
}

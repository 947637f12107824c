import Foundation
import Interpreter
import PostgresNIO
@testable import PostgresStore
import SQLiteStore
import Testing

/// The databases the end-to-end worker tests run on. PostgreSQL needs
/// `SAGACTL_TEST_POSTGRES_URL` (from `bash scripts/postgres.sh start`); without it the case is
/// left out, except in CI, where it stays and fails saying so.
enum WorkerDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static let postgresURL: String? = {
        let value = ProcessInfo.processInfo.environment["SAGACTL_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }()

    static let isCI: Bool = {
        let value = (ProcessInfo.processInfo.environment["CI"] ?? "").lowercased()
        return !["", "0", "false", "no"].contains(value)
    }()

    static let underTest: [WorkerDatabase] = allCases.filter { $0 != .postgres || postgresURL != nil || isCI }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String {
            "CI must provide PostgreSQL: run `bash scripts/postgres.sh start` and set SAGACTL_TEST_POSTGRES_URL to the URL it prints"
        }
    }

    /// Runs `body` with a fresh database: the value for `SAGACTL_DB` (a file in `directory`, or
    /// the server's URL with a new schema, password included: pass it through the environment,
    /// not the command line) and a store open on it for the test's own reads. Removes the
    /// schema afterwards.
    func with<T: Sendable>(
        directory: URL, _ body: (_ location: String, _ store: any InstanceStore) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite:
            let path = directory.appendingPathComponent("sagas.sqlite").path
            let store = try SQLiteInstanceStore(path: path)
            let result: T
            do {
                result = try await body(path, store)
            } catch {
                try store.close()
                throw error
            }
            try store.close()
            return result
        case .postgres:
            guard let url = Self.postgresURL else { throw Unavailable() }
            let base = try PostgresStore.Configuration.parse(url: url)
            let schema = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            try await Self.admin(base, "CREATE SCHEMA \(schema)")
            var configuration = base
            configuration.schema = schema
            configuration.maximumConnections = 3
            let result: T
            do {
                let store = try await PostgresStore(configuration: configuration)
                do {
                    result = try await body(configuration.url, store)
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            } catch {
                do {
                    try await Self.admin(base, "DROP SCHEMA \(schema) CASCADE")
                } catch let dropError {
                    Issue.record("could not drop schema \(schema) after a failure: \(String(reflecting: dropError))")
                }
                throw error
            }
            try await Self.admin(base, "DROP SCHEMA \(schema) CASCADE")
            return result
        }
    }

    private static func admin(_ configuration: PostgresStore.Configuration, _ sql: String) async throws {
        var logger = Logger(label: "sagactl.tests.postgres")
        logger.logLevel = .critical
        let connection = try await PostgresConnection.connect(
            configuration: try configuration.connectionConfiguration(), id: 1, logger: logger)
        do {
            try await connection.rows(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try await connection.close()
            throw error
        }
        try await connection.close()
    }
}

import Foundation
import Interpreter
import PostgresNIO
@testable import PostgresStore
import SQLiteStore
import Testing

/// The databases every end-to-end test that takes a `--db` runs on (DESIGN §5: a saga behaves
/// the same on SQLite and on PostgreSQL). PostgreSQL needs `SAGACTL_TEST_POSTGRES_URL` (from
/// `bash scripts/postgres.sh start`); without it the case is left out with a note, except in
/// CI, where it stays and fails saying so.
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
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

    static let underTest: [TestDatabase] = {
        let cases = allCases.filter { $0 != .postgres || postgresURL != nil || isCI }
        if !cases.contains(.postgres) {
            print("note: SAGACTL_TEST_POSTGRES_URL is not set; the end-to-end tests run on SQLite only "
                  + "(export SAGACTL_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start) to run them on PostgreSQL too)")
        }
        return cases
    }()

    /// The `--db` value of the case running in this task, set by `run(in:_:)`.
    @TaskLocal static var current: String?
    /// A store open on that database, for the test's own reads.
    @TaskLocal static var currentStore: (any InstanceStore)?

    /// Runs `body` on a fresh database of this kind, whose locator is `TestDatabase.current`
    /// while it runs (so a suite's `db` can read it), and `TestDatabase.currentStore` a store
    /// open on it.
    func run(in directory: URL, _ body: () async throws -> Void) async throws {
        try await with(directory: directory) { location, store in
            try await Self.$current.withValue(location) {
                try await Self.$currentStore.withValue(store) { try await body() }
            }
        }
    }

    /// `TestDatabase.current`, or the SQLite file `sagas.sqlite` in `directory` outside a case.
    static func location(in directory: URL) -> String {
        current ?? directory.appendingPathComponent("sagas.sqlite").path
    }

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

    static func admin(_ configuration: PostgresStore.Configuration, _ sql: String) async throws {
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

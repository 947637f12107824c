import Foundation
import Interpreter
import PostgresNIO
@testable import PostgresStore
import Testing

/// The PostgreSQL server the tests use: `SAGACTL_TEST_POSTGRES_URL` (from
/// `bash scripts/postgres.sh start`). Each test gets a schema of its own (`t_<random>`,
/// dropped afterwards), so tests run in parallel on one database.
enum TestPostgres {
    static let url: String? = {
        let value = ProcessInfo.processInfo.environment["SAGACTL_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }()

    /// Whether this is a CI run (`CI` set to anything but empty, 0 or false).
    static let isCI: Bool = {
        let value = (ProcessInfo.processInfo.environment["CI"] ?? "").lowercased()
        return !["", "0", "false", "no"].contains(value)
    }()

    /// Whether the PostgreSQL cases are in the argument lists: with a server, or in CI (where
    /// they then fail).
    static var isIncluded: Bool { url != nil || isCI }

    static let missingInCI =
        "CI must provide PostgreSQL: run `bash scripts/postgres.sh start` and set SAGACTL_TEST_POSTGRES_URL to the URL it prints"

    static let skippedMessage =
        "PostgreSQL store tests skipped: SAGACTL_TEST_POSTGRES_URL is not set "
        + "(export SAGACTL_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start) to run them)"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { TestPostgres.missingInCI }
    }

    /// The server's configuration; throws `Unavailable` (failing the test) when there is none.
    static func configuration() throws -> PostgresStore.Configuration {
        guard let url else { throw Unavailable() }
        var configuration = try PostgresStore.Configuration.parse(url: url)
        configuration.maximumConnections = 3
        // No test here is about connect timeouts (PostgresURLTests checks the option itself),
        // and a fresh-clone CI run once took over 10 s, the default, to finish a loopback
        // connect while parallel tests held both cores.
        configuration.connectTimeout = .seconds(60)
        return configuration
    }

    /// At most this many tests hold a schema (and its connections) at once, so that parallel
    /// tests stay within the server's connection limit and this machine's two cores.
    private static let gate = Gate(limit: 6)

    /// Runs `body` with the server's configuration pointed at a new, empty schema, then drops
    /// the schema (with whatever the test left in it).
    static func withFreshSchema<T: Sendable>(_ body: (PostgresStore.Configuration) async throws -> T) async throws -> T {
        let configuration = try configuration()
        await gate.enter()
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await inNewSchema(configuration, body))
        } catch {
            outcome = .failure(error)
        }
        await gate.leave()
        return try outcome.get()
    }

    private static func inNewSchema<T: Sendable>(
        _ base: PostgresStore.Configuration, _ body: (PostgresStore.Configuration) async throws -> T
    ) async throws -> T {
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await admin(base) { try await $0.rows(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"), logger: logger) }
        var configuration = base
        configuration.schema = schema
        let result: T
        do {
            result = try await body(configuration)
        } catch {
            do {
                try await dropSchema(schema, base)
            } catch let dropError {
                Issue.record("could not drop schema \(schema) after a failure: \(String(reflecting: dropError))")
            }
            throw error
        }
        try await dropSchema(schema, base)
        return result
    }

    /// A store on a fresh schema, closed afterwards.
    static func withStore(_ body: (any InstanceStore) async throws -> Void) async throws {
        try await withFreshSchema { configuration in
            let store = try await PostgresStore(configuration: configuration)
            do {
                try await body(store)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }

    private static func dropSchema(_ schema: String, _ configuration: PostgresStore.Configuration) async throws {
        try await admin(configuration) { try await $0.rows(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger) }
    }

    /// Runs `body` on a connection of its own (outside any store), search path as configured.
    @discardableResult
    static func admin<T: Sendable>(
        _ configuration: PostgresStore.Configuration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try configuration.connectionConfiguration(), id: 1, logger: logger)
        let result: T
        do {
            result = try await body(connection)
        } catch {
            try await connection.close()
            throw error
        }
        try await connection.close()
        return result
    }

    static let logger: Logger = {
        var logger = Logger(label: "sagactl.tests.postgres")
        logger.logLevel = .critical
        return logger
    }()
}

/// A counting semaphore for async code.
actor Gate {
    private let limit: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func enter() async {
        if holders < limit {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }  // the leaver hands its place over
    }

    func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

@Suite("PostgreSQL availability")
struct PostgresAvailabilityTests {
    /// Says once that the PostgreSQL cases were left out, and fails in CI when they would be.
    @Test func postgresCasesRunOrAreReportedSkipped() {
        switch (TestPostgres.url, TestPostgres.isCI) {
        case (nil, true):
            Issue.record(Comment(rawValue: TestPostgres.missingInCI))
        case (nil, false):
            print(TestPostgres.skippedMessage)
            #expect(!StoreKind.underTest.contains(.postgres))
        case (.some, _):
            #expect(StoreKind.underTest.contains(.postgres))
        }
    }
}

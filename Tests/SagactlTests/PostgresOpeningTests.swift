import Foundation
import PostgresNIO
@testable import PostgresStore
import Testing

/// Opening a PostgreSQL database from the command line while another session holds the
/// migration lock (a `sagactl` stopped while it opens a new schema, or an upgrade running).
@Suite("PostgreSQL opening, end to end")
struct PostgresOpeningTests {
    @Test("A schema to migrate: sagactl says who holds the migration lock, waits, then migrates and lists",
          arguments: TestDatabase.underTest.filter { $0 == .postgres })
    func listSaysWhoHoldsTheMigrationLock(database: TestDatabase) async throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await database.with(directory: directory) { location, _ in
            // A schema next to the test's own, not created yet: opening must migrate it.
            var configuration = try PostgresStore.Configuration.parse(url: location)
            configuration.schema = try #require(configuration.schema) + "_new"
            let fresh = configuration
            var logger = Logger(label: "sagactl.tests.postgres")
            logger.logLevel = .critical
            let holder = try await PostgresConnection.connect(
                configuration: try fresh.connectionConfiguration(), id: 1, logger: logger)
            let errors = directory.appendingPathComponent("list.err")
            let output = directory.appendingPathComponent("list.out")
            var process: Background?
            do {
                try await holder.rows("BEGIN", logger: logger)
                try await holder.rows(
                    "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey), hashtext(\(fresh.schema ?? "")))", logger: logger)
                let holderPID = try await holder.rows("SELECT pg_backend_pid()", logger: logger).map { try $0.decode(Int32.self) }
                let list = try CLI.spawn(["list"], environment: ["SAGACTL_DB": fresh.url, "NO_COLOR": "1"],
                                         stdout: output, stderr: errors)
                process = list
                let deadline = ContinuousClock.now + .seconds(120)  // a loaded CI machine took ~60 s for the whole test
                var said = ""
                while list.isRunning, ContinuousClock.now < deadline, !said.contains("\n") {
                    try await Task.sleep(for: .milliseconds(20))
                    said = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
                }
                #expect(list.isRunning, "sagactl list ended while the migration lock was held: \(said)")
                let pid = try #require(holderPID.first)
                // The first line whole; the seconds in the middle depend on the machine.
                #expect(said.hasPrefix("sagactl: waiting for another session to finish migrating \(fresh.redactedURL) "
                    + "(backend pid \(pid), application \(fresh.applicationName), client 127.0.0.1, in its transaction for "), "\(said)")
                #expect(said.hasSuffix(" s); it holds the migration lock until its transaction ends "
                    + "(if it is stuck, end it: SELECT pg_terminate_backend(\(pid)))\n"), "\(said)")
                #expect(!said.contains(fresh.password ?? "\u{0}"))
                try await holder.rows("ROLLBACK", logger: logger)
            } catch {
                try? await holder.close()
                if let process { await CLI.waitForExit(process, timeout: 0) }
                throw error
            }
            try await holder.close()
            let list = try #require(process)
            await CLI.waitForExit(list, timeout: 120)
            #expect(list.terminationStatus == 0, "\((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
            // "no instances" goes to standard error, after the message, and nothing to standard output.
            #expect(try String(contentsOf: errors, encoding: .utf8).split(separator: "\n").last == "no instances in \(fresh.redactedURL)")
            #expect(try String(contentsOf: output, encoding: .utf8) == "")
            try await TestDatabase.admin(fresh, "DROP SCHEMA \(fresh.schema!) CASCADE")
        }
    }
}

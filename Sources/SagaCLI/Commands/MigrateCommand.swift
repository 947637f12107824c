import ArgumentParser
import Foundation
import Interpreter
import StateLang

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or update the database schema, and print its version.",
        discussion: """
            Every command does this when it opens the database; run it on its own to set up a \
            PostgreSQL database before starting workers, or after upgrading sagactl. Safe to run \
            from several processes at once: on PostgreSQL one migrates while the others wait, and \
            a process that waits names the session it waits for (and how to end it if it is stuck); \
            a schema already up to date is opened without waiting. A PostgreSQL database must exist (createdb); \
            ?schema=NAME in the URL keeps sagactl's tables in a schema of their own.

            Example:
              sagactl migrate --db 'postgres://sagactl:secret@db.internal:5432/sagas'
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let from: Int?
        let version: Int
        if database.isPostgres {
            let store = try await database.openPostgres()
            // Opening migrated the schema: `openingMigration` says from which version.
            from = store.openingMigration.from
            version = store.openingMigration.to
            await store.close()
        } else {
            let store = try database.openSQLite()
            do {
                version = try await store.settings().schemaVersion
                try store.close()
            } catch let error as StoreError {
                throw CommandFailure.store(error, path: database.path)
            }
            from = nil
        }
        if output.json {
            Terminal.out(JSONValue.object([
                "database": .string(database.path),
                "from_version": from.map { .int($0) } ?? .null,
                "version": .int(version),
            ]).jsonString(pretty: true) + "\n")
        } else if let from, from != version {
            Terminal.out("\(database.path): migrated from schema version \(from) to \(version)\n")
        } else {
            Terminal.out("\(database.path): schema version \(version), up to date\n")
        }
    }
}

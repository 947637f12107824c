import ArgumentParser
import Foundation
import Interpreter
import PostgresStore
import SQLiteStore
import StateLang

/// `--db PATH|URL`: the store. Default `./sagactl.sqlite`, or `$SAGACTL_DB`. A `postgres://` or
/// `postgresql://` URL opens the PostgreSQL store instead of an SQLite file.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The database file (created if missing), or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL.",
        discussion: "Defaults to $SAGACTL_DB, else ./sagactl.sqlite.", valueName: "path|url"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp(
        "full: every step survives power loss (default). normal: faster; a power cut may lose the last steps.",
        valueName: "full|normal"))
    var durability: DurabilityChoice = .full

    /// What `--db`, `$SAGACTL_DB` or the default names, as given: a URL includes its password,
    /// so this is for opening only.
    var location: String { db ?? ProcessInfo.processInfo.environment["SAGACTL_DB"] ?? "./sagactl.sqlite" }

    /// For messages: the file path, or the URL with its password replaced by `***`.
    var path: String { location.contains("://") ? PostgresURL.redacted(location) : location }

    var isPostgres: Bool { PostgresURL.isPostgres(location) }

    /// Opens the store or fails with a message that says what to do.
    func open(mustExist: Bool = false) async throws -> any InstanceStore {
        if isPostgres { return try await openPostgres() }
        guard !location.contains("://") else {
            throw CommandFailure("\(path) is not a database sagactl can open",
                                 hint: "pass the path of an SQLite file, or a postgres:// URL", code: SagaExit.usage)
        }
        return try openSQLite(mustExist: mustExist)
    }

    func openPostgres() async throws -> PostgresStore {
        guard durability == .full else {
            throw CommandFailure("--durability applies to SQLite files only",
                                 hint: "PostgreSQL's durability is the server's synchronous_commit setting", code: SagaExit.usage)
        }
        let configuration: PostgresStore.Configuration
        do {
            configuration = try PostgresStore.Configuration.parse(url: location)
        } catch {
            throw CommandFailure(error.message, code: SagaExit.usage)
        }
        do {
            return try await PostgresStore(configuration: configuration) { message in
                Terminal.err("sagactl: \(message)\n")
            }
        } catch let error as StoreError {
            throw CommandFailure.store(error, path: path)
        }
    }

    func openSQLite(mustExist: Bool = false) throws -> SQLiteInstanceStore {
        if mustExist, !FileManager.default.fileExists(atPath: location) {
            throw CommandFailure("no database at \(path)",
                                 hint: "pass --db with the file your sagas ran against (or set SAGACTL_DB)",
                                 code: SagaExit.database)
        }
        do {
            return try SQLiteInstanceStore(path: location, durability: durability.value)
        } catch let error as StoreError {
            throw CommandFailure.store(error, path: path)
        } catch {
            throw CommandFailure("cannot open the database \(path): \(error)", code: SagaExit.database)
        }
    }
}

enum DurabilityChoice: String, ExpressibleByArgument, CaseIterable {
    case full
    case normal

    var value: SQLiteInstanceStore.Durability { self == .full ? .full : .normal }
}

extension CommandFailure {
    static func store(_ error: StoreError, path: String) -> CommandFailure {
        switch error {
        case .busy(let message):
            CommandFailure(message, hint: "another sagactl is writing to \(path); wait for it, or use another --db", code: SagaExit.busy)
        case .incompatible(let message), .failure(let message):
            CommandFailure(message, code: SagaExit.database)
        case .instanceNotFound, .definitionNotFound, .leaseLost:
            CommandFailure(error.description, code: SagaExit.internalError)
        }
    }
}

/// `--input JSON|@file`, `--services FILE`, `--business-key K`.
struct StartOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The start parameters: a JSON object, or @path to read it from a file ('@-' reads standard input).",
        valueName: "json|@file"))
    var input: String?

    @Option(name: .long, help: ArgumentHelp(
        "A business key; starting again with the same key returns the existing instance instead of running twice.",
        valueName: "key"))
    var businessKey: String?

    /// `--input @file` and `@-` read at most this much (standard input may never end).
    static let maxInputBytes = 64 * 1024 * 1024

    func parsedInput() throws -> JSONValue {
        guard let input else { return .object([:]) }
        var text = input
        var origin = "--input"
        if input.hasPrefix("@") {
            (text, origin) = try Self.readText(String(input.dropFirst()), limit: Self.maxInputBytes, option: "after '@'")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw CommandFailure("\(origin):\(error.position.line):\(error.position.column): the input is not valid JSON: \(error.message)",
                                 hint: "pass a JSON object, e.g. --input '{\"productId\": 1}'", code: SagaExit.usage)
        }
        guard case .object = value else {
            throw CommandFailure("the input must be a JSON object (the saga's start parameters), not \(value.kindDescription)",
                                 hint: "wrap it in an object, e.g. --input '{\"items\": [...]}'", code: SagaExit.usage)
        }
        return value
    }

    /// Reads a UTF-8 text file (`-` for standard input) of at most `limit` bytes; returns the
    /// text and its name for messages. `option` names where the path came from, for the hint.
    static func readText(_ path: String, limit: Int, option: String) throws -> (text: String, origin: String) {
        let (data, origin) = try readFile(
            path, limit: limit, what: "input file", pathHint: "check the path \(option)",
            tooLarge: ("the input is the saga's start parameters", "pass identifiers and let the services fetch large data"))
        // Decoding leniently would turn each bad byte into U+FFFD and change the data unseen.
        let bytes = [UInt8](data)
        if let bad = WorkflowLoader.firstInvalidUTF8(bytes) {
            let position = SourceFile.position(ofByte: bad, in: bytes)
            throw CommandFailure(
                "\(origin):\(position.line):\(position.column): the input is not UTF-8 text "
                    + "(byte \(WorkflowLoader.hexByte(bytes[bad])) at offset \(bad))",
                hint: "JSON must be UTF-8; convert the file, e.g. with iconv -t UTF-8", code: SagaExit.usage)
        }
        return (String(decoding: bytes, as: UTF8.self), origin)
    }
}

struct ServicesOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A YAML file of service bindings (a Services map) that override the workflow's own.",
        valueName: "file"))
    var services: String?

    func load() throws -> [String: ServiceBinding] {
        guard let services else { return [:] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: services, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CommandFailure("cannot read the services file \(services): \(isDirectory.boolValue ? "it is a directory" : "no such file")",
                                 hint: "check the path given to --services", code: SagaExit.usage)
        }
        let result = ServicesFile.load(path: services)
        if result.diagnostics.contains(where: { $0.severity == .error }) {
            let renderer = DiagnosticRenderer(colour: Terminal.colourErr)
            Terminal.err(result.diagnostics.map { renderer.render($0, path: services, source: result.source) }.joined())
            throw CommandFailure("the services file \(services) has errors", code: SagaExit.invalidWorkflow)
        }
        return result.bindings
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false
}

/// Reads a file (`-` for standard input) of at most `limit` bytes whole; returns its bytes and
/// its name for messages (`<stdin>` for standard input). A missing, unreadable or oversized file
/// is a usage error naming `what` it is, with `pathHint`, or with `tooLarge`'s note and hint.
func readFile(_ path: String, limit: Int, what: String, pathHint: String, tooLarge: (note: String, hint: String))
    throws -> (data: Data, origin: String)
{
    let origin = path == "-" ? "<stdin>" : path
    let handle: FileHandle
    if path == "-" {
        handle = FileHandle.standardInput
    } else {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let opened = FileHandle(forReadingAtPath: path)
        else {
            let reason = !FileManager.default.fileExists(atPath: path) ? "no such file"
                : isDirectory.boolValue ? "it is a directory" : "permission denied"
            throw CommandFailure("cannot read the \(what) \(path): \(reason)", hint: pathHint, code: SagaExit.usage)
        }
        handle = opened
    }
    let data: Data
    do {
        data = try WorkflowLoader.read(handle, limit: limit)
    } catch {
        throw CommandFailure("cannot read \(origin): \(error.localizedDescription)", code: SagaExit.usage)
    }
    guard data.count <= limit else {
        throw CommandFailure("\(origin) is larger than \(WorkflowLoader.mebibytes(limit))" + (tooLarge.note.isEmpty ? "" : "; \(tooLarge.note)"),
                             hint: tooLarge.hint, code: SagaExit.usage)
    }
    return (data, origin)
}

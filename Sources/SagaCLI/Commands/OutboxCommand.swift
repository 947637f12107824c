import ArgumentParser
import Foundation
import Interpreter
import StateLang

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Inspect and retry the transactional outbox of IsAsync states.",
        discussion: """
            An IsAsync state's call is written to the outbox in the same transaction as the \
            checkpoint that reaches it, and delivered at least once (with the step's idempotency \
            key) by the dispatcher inside `run`, `worker` and `recover`: 3 attempts with backoff, \
            then `failed`.
            """,
        subcommands: [OutboxListCommand.self, OutboxRetryCommand.self],
        defaultSubcommand: OutboxListCommand.self)
}

extension OutboxStatus: ExpressibleByArgument {}

struct OutboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List outbox messages, newest first.")

    @Option(name: .long, help: "pending, delivered or failed.") var status: OutboxStatus?
    @Option(name: .long, help: "At most this many.") var limit = 50
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try await database.open(mustExist: true)
        let messages = try await store.listOutbox(status: status, limit: limit)
        if output.json {
            Terminal.out(JSONValue.array(messages.map(Self.json)).jsonString(pretty: true) + "\n")
            return
        }
        if messages.isEmpty {
            Terminal.err("no outbox messages\(status.map { " with status \($0.rawValue)" } ?? "") in \(database.path)\n")
            return
        }
        var table = TextTable(["ID", "STATE", "SERVICE", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "ERROR"])
        for m in messages {
            table.add([m.id, m.stateName, "\(m.serviceName).\(m.serviceMethod)", m.status.rawValue,
                       "\(m.attempts)/\(m.maxAttempts)", m.status == .pending ? TextTable.time(m.nextAttemptAt) : "-",
                       m.lastError.map { "\($0.name): \($0.message)" } ?? ""])
        }
        Terminal.out(table.render())
    }

    static func json(_ m: OutboxMessage) -> JSONValue {
        .object([
            "id": .string(m.id), "instance_id": .string(m.instanceID), "state": .string(m.stateName),
            "service": .string(m.serviceName), "method": .string(m.serviceMethod), "input": m.input,
            "status": .string(m.status.rawValue), "attempts": .int(m.attempts), "max_attempts": .int(m.maxAttempts),
            "next_attempt_at": RecordJSON.date(m.nextAttemptAt), "error": RecordJSON.failure(m.lastError),
            "created_at": RecordJSON.date(m.createdAt), "delivered_at": RecordJSON.date(m.deliveredAt),
        ])
    }
}

struct OutboxRetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Send a failed message again (now, with fresh attempts).")

    @Argument(help: "The message id (the step's idempotency key, as `outbox list` shows it).") var id: String
    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let bindings = try services.load()
        let store = try await database.open(mustExist: true)
        let message: OutboxMessage?
        do {
            message = try await store.retryOutbox(id: id, now: Date())
        } catch let error as StoreError {
            throw CommandFailure(error.description, hint: "`sagactl outbox list --status failed` shows what can be retried", code: SagaExit.usage)
        }
        guard message != nil else {
            throw CommandFailure("no outbox message \(id)", hint: "`sagactl outbox list` shows the ids", code: SagaExit.usage)
        }
        let engine = EngineSetup.make(store: store, services: bindings)
        let printer = ProgressPrinter(quiet: output.json)
        engine.observe { printer.handle($0) }
        let instance = try await store.listOutbox(status: nil, limit: 100_000).first { $0.id == id }?.instanceID ?? ""
        let result = try await engine.flushOutbox(of: instance).first { $0.id == id }
        if output.json, let result { Terminal.out(OutboxListCommand.json(result).jsonString(pretty: true) + "\n") }
        if result?.status != .delivered { throw ExitCode(SagaExit.attention) }
    }
}

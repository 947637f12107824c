import ArgumentParser
import Foundation
import Interpreter
import StateLang

/// Shared body of resume / forward / compensate / skip.
struct InstanceAction: ParsableArguments {
    @Argument(help: "The instance id.") var id: String
    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Flag(name: .shortAndLong, help: "Print only the summary.") var quiet = false

    func perform(_ body: (SagaEngine) async throws -> InstanceRecord) async throws {
        let bindings = try services.load()
        let store = try await database.open(mustExist: true)
        let engine = EngineSetup.make(store: store, services: bindings)
        if let stored = try await store.instance(id: id),
            let definition = try await store.definition(fingerprint: stored.definitionFingerprint) {
            SiblingWorkflows.shared.remember(directoryOf: definition.path)
        }
        let printer = ProgressPrinter(quiet: quiet || output.json)
        engine.observe { printer.handle($0) }
        let began = Date()
        let record: InstanceRecord
        do {
            record = try await body(engine)
        } catch let error as EngineError {
            throw CommandFailure(error.description, code: code(for: error))
        } catch let error as StoreError {
            throw CommandFailure.store(error, path: database.path)
        }
        if output.json {
            Terminal.out(RecordJSON.instance(record, steps: try await store.steps(of: record.id)).jsonString(pretty: true) + "\n")
        } else {
            Terminal.err(printer.summary(record, seconds: Date().timeIntervalSince(began)))
        }
        throw ExitCode(SagaExit.code(for: record.status))
    }

    func code(for error: EngineError) -> Int32 {
        switch error {
        case .rejected, .heldElsewhere: SagaExit.usage
        case .notFound: SagaExit.usage
        case .definition: SagaExit.invalidWorkflow
        case .store: SagaExit.database
        }
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an instance whose executor stopped (or that no worker has taken yet).",
        discussion: "The call in flight is made again with the same idempotency key, then the flow continues.")

    @OptionGroup var action: InstanceAction

    func run() async throws {
        try await action.perform { [id = action.id] in try await $0.resume(id) }
    }
}

struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Push a failed or unknown instance forward from its last forward state.",
        discussion: "The failed state is called again with the same idempotency key; a succeeded one continues with its Next.")

    @OptionGroup var action: InstanceAction

    func run() async throws {
        try await action.perform { [id = action.id] in try await $0.forward(id) }
    }
}

struct CompensateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compensate",
        abstract: "Undo what an instance did, in reverse order; also retries a stopped compensation.",
        discussion: "Steps already compensated are not compensated again.")

    @OptionGroup var action: InstanceAction

    func run() async throws {
        try await action.perform { [id = action.id] in try await $0.compensate(id) }
    }
}

struct SkipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skip",
        abstract: "Record that a state was resolved by hand, and continue.",
        discussion: """
            On an instance that needs intervention, marks the compensation of STATE as done by hand \
            and compensates the rest. On a failed or unknown instance, marks STATE skipped and \
            continues with its Next. The resolution is recorded in the history.
            """)

    @OptionGroup var action: InstanceAction
    @Option(name: .long, help: "The state resolved by hand.") var state: String

    func run() async throws {
        try await action.perform { [id = action.id] in try await $0.skip(id, state: state) }
    }
}

import ArgumentParser
import Foundation
import Interpreter
import StateLang

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start an instance of a workflow and wait for its end.",
        discussion: """
            Every step is checkpointed in the database before and after its call, so an instance \
            interrupted by a crash is finished by `sagactl recover` without repeating finished work. \
            Progress goes to standard error; the final instance (with --json) to standard output.

            Exit status: 0 succeeded, 1 failed or compensated, 2 needs attention (unknown or \
            needs-intervention), 65 invalid workflow, 64 usage, 74/75 database errors.

            Example:
              sagactl run workflows/order-payment.yaml --input '{"productId": 1, "amount": 20}'
            """)

    @Argument(help: ArgumentHelp("The workflow file.", valueName: "file"))
    var file: String

    @OptionGroup var start: StartOptions
    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .shortAndLong, help: "Print only the summary.")
    var quiet = false

    func run() async throws {
        let bindings = try services.load()
        let (workflow, source) = try EngineSetup.compile(file, externalServices: Set(bindings.keys))
        let input = try start.parsedInput()
        let store = try await database.open()
        let engine = EngineSetup.make(store: store, services: bindings)
        engine.register(workflow, source: source)
        let printer = ProgressPrinter(quiet: quiet || output.json)
        engine.observe { printer.handle($0) }
        let began = Date()
        var existed = false
        if let key = start.businessKey { existed = try await store.instance(businessKey: key) != nil }
        let record: InstanceRecord
        do {
            record = try await engine.run(workflow, input: input, businessKey: start.businessKey)
            // The dispatcher runs inside `run` too: deliver this saga's IsAsync calls now.
            _ = try await engine.flushOutbox(of: record.id)
        } catch let error as StoreError {
            throw CommandFailure.store(error, path: database.path)
        }
        if output.json {
            let steps = try await store.steps(of: record.id)
            Terminal.out(RecordJSON.instance(record, steps: steps).jsonString(pretty: true) + "\n")
        } else {
            if existed {
                Terminal.err("business key '\(start.businessKey ?? "")' already used by instance \(record.id); nothing was run\n")
            }
            Terminal.err(printer.summary(record, seconds: Date().timeIntervalSince(began)))
            Terminal.out("\(record.id)\n")
        }
        throw ExitCode(SagaExit.code(for: record.status))
    }
}

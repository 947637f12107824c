import ArgumentParser
import Foundation
import Interpreter
import StateLang

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start an instance of a workflow and wait for its end.",
        discussion: """
            Every step is checkpointed in the database before and after its call, so an instance
            interrupted by a crash is finished by `sagactl recover` without repeating finished work.
            Progress goes to standard error; the final instance (with --json) to standard output.

            Exit status: 0 succeeded, 1 failed or compensated, 2 needs attention (unknown or
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

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Create an instance for a worker to run; print its id and return at once.",
        discussion: """
            The instance waits in the database until `sagactl worker` (any number of them, on the
            same database) picks it up.

            With --inputs FILE, creates one instance per line of FILE (a JSON object a line, '-'
            for standard input) and prints their ids in the order of the lines; every line is
            checked before any instance is created.

            Examples:
              id=$(sagactl start workflows/order-payment.yaml --input @order.json)
              sagactl worker --until-idle && sagactl status "$id"
              sagactl demo orders --count 300 | sagactl start workflows/order-payment.yaml --inputs -
            """)

    @Argument(help: ArgumentHelp("The workflow file.", valueName: "file"))
    var file: String

    @OptionGroup var start: StartOptions
    @Option(name: .long, help: ArgumentHelp(
        "Start one instance per line of this file: a JSON object a line ('-' reads standard input).",
        valueName: "file"))
    var inputs: String?
    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    /// Instances created at once with --inputs: the store commits concurrent creations together.
    static let batchConcurrency = 32

    func validate() throws {
        guard inputs != nil else { return }
        if start.input != nil { throw ValidationError("--input and --inputs cannot be combined: pass one start parameters source") }
        if start.businessKey != nil {
            throw ValidationError("--business-key names one instance; with --inputs, put a business key in each workflow's data instead")
        }
    }

    func run() async throws {
        let bindings = try services.load()
        let (workflow, source) = try EngineSetup.compile(file, externalServices: Set(bindings.keys))
        if let inputs {
            try await startMany(workflow, source: source, bindings: bindings, inputs: try InputLines.load(inputs))
            return
        }
        let input = try start.parsedInput()
        let store = try await database.open()
        let engine = EngineSetup.make(store: store, services: bindings)
        engine.register(workflow, source: source)
        let (record, created) = try await engine.enqueue(workflow, input: input, businessKey: start.businessKey)
        if output.json {
            var json = RecordJSON.instance(record)
            if case .object(var o) = json { o["created"] = .bool(created); json = .object(o) }
            Terminal.out(json.jsonString(pretty: true) + "\n")
        } else {
            if !created { Terminal.err("business key '\(start.businessKey ?? "")' already used; this is the existing instance\n") }
            Terminal.out("\(record.id)\n")
        }
    }

    /// `--inputs`: creates an instance per input, a batch at a time, and prints the ids in
    /// input order. A store error stops at once; the ids created so far are printed first.
    private func startMany(_ workflow: Workflow, source: String, bindings: [String: ServiceBinding], inputs: [JSONValue])
        async throws
    {
        let store = try await database.open()
        let engine = EngineSetup.make(store: store, services: bindings)
        engine.register(workflow, source: source)
        var records: [InstanceRecord?] = Array(repeating: nil, count: inputs.count)
        var failure: (any Error)?
        await withTaskGroup(of: (Int, Result<InstanceRecord, any Error>).self) { group in
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask {
                    do { return (index, .success(try await engine.enqueue(workflow, input: inputs[index]).0)) } catch {
                        return (index, .failure(error))
                    }
                }
            }
            while next < min(Self.batchConcurrency, inputs.count) { add() }
            while let (index, result) = await group.next() {
                switch result {
                case .success(let record): records[index] = record
                case .failure(let error):
                    failure = failure ?? error
                    group.cancelAll()
                }
                if failure == nil, next < inputs.count { add() }
            }
        }
        let created = records.prefix { $0 != nil }.compactMap { $0 }
        if output.json {
            Terminal.out(JSONValue.array(created.map { RecordJSON.instance($0) }).jsonString(pretty: true) + "\n")
        } else {
            Terminal.out(created.map { "\($0.id)\n" }.joined())
        }
        if let failure {
            let made = records.count { $0 != nil }
            Terminal.err("sagactl: created \(made) of \(inputs.count) instances before an error; the ids printed are the first \(created.count) of them, in input order\n")
            if let error = failure as? StoreError { throw CommandFailure.store(error, path: database.path) }
            throw failure
        }
    }
}

import ArgumentParser
import Foundation
import Interpreter
import StateLang

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Create an instance for a worker to run; print its id and return at once.",
        discussion: """
            The instance waits in the database until `sagactl worker` (any number of them, on the \
            same database) picks it up.

            With --inputs FILE, creates one instance per line of FILE ('-' reads standard input): \
            newline-delimited JSON, one object of start parameters per line. Every line is checked \
            first; a file with a bad line starts nothing and each bad line is reported as \
            FILE:LINE. --business-key-field NAME takes each instance's business key from that \
            field of its input (a line whose key is already used gets the existing instance, as \
            with --business-key). Ids are printed in line order; with --json, an array of \
            {line, id, status, business_key, created}.

            Examples:
              id=$(sagactl start workflows/order-payment.yaml --input @order.json)
              sagactl worker --until-idle && sagactl status "$id"
              sagactl start flow.yaml --inputs orders.ndjson --business-key-field orderRef
            """)

    @Argument(help: ArgumentHelp("The workflow file.", valueName: "file"))
    var file: String

    @OptionGroup var start: StartOptions

    @Option(name: .long, help: ArgumentHelp(
        "Start one instance per line of this file of newline-delimited JSON objects ('-' reads standard input).",
        valueName: "file"))
    var inputs: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --inputs: the input field that holds each instance's business key.", valueName: "name"))
    var businessKeyField: String?

    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    /// Instances created at once with --inputs: enough to overlap round trips to a server.
    static let bulkConcurrency = 8

    func validate() throws {
        if inputs != nil, start.input != nil { throw ValidationError("--inputs and --input cannot be used together") }
        if inputs != nil, start.businessKey != nil {
            throw ValidationError("--business-key names one instance; with --inputs use --business-key-field")
        }
        if businessKeyField != nil, inputs == nil { throw ValidationError("--business-key-field needs --inputs") }
    }

    func run() async throws {
        let bindings = try services.load()
        let (workflow, source) = try EngineSetup.compile(file, externalServices: Set(bindings.keys))
        if let inputs {
            let lines = try InputLines.read(path: inputs, businessKeyField: businessKeyField)
            try await startMany(workflow, source: source, bindings: bindings, lines: lines)
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

    /// One instance per line, `bulkConcurrency` at a time; results are printed in line order.
    /// A store error stops the run: the lines before it are reported as started (a business
    /// key makes running the file again safe), the failed line and the rest are named.
    func startMany(_ workflow: Workflow, source: String, bindings: [String: ServiceBinding], lines: InputLines) async throws {
        let store = try await database.open()
        let engine = EngineSetup.make(store: store, services: bindings)
        engine.register(workflow, source: source)
        var results: [(record: InstanceRecord, created: Bool)?] = Array(repeating: nil, count: lines.lines.count)
        var failure: (index: Int, error: any Error)?
        await withTaskGroup(of: (Int, Result<(InstanceRecord, Bool), any Error>).self) { group in
            var next = 0
            func addNext() {
                guard next < lines.lines.count else { return }
                let index = next
                let line = lines.lines[index]
                next += 1
                group.addTask {
                    do {
                        let (record, created) = try await engine.enqueue(workflow, input: line.input, businessKey: line.businessKey)
                        return (index, .success((record, created)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            for _ in 0..<Self.bulkConcurrency { addNext() }
            for await (index, result) in group {
                switch result {
                case .success(let value):
                    results[index] = value
                    if failure == nil { addNext() }
                case .failure(let error):
                    if failure == nil || index < failure!.index { failure = (index, error) }
                }
            }
        }
        let started = results.prefix { $0 != nil }.compactMap { $0 }
        if output.json {
            let rows: [JSONValue] = zip(lines.lines, results).compactMap { line, result in
                guard let (record, created) = result else { return nil }
                return .object([
                    "line": .int(line.number), "id": .string(record.id), "status": .string(record.status.rawValue),
                    "business_key": record.businessKey.map { .string($0) } ?? .null, "created": .bool(created),
                ])
            }
            Terminal.out(JSONValue.array(rows).jsonString(pretty: true) + "\n")
        } else {
            for (line, result) in zip(lines.lines, results) {
                guard let (record, created) = result else { continue }
                if !created {
                    Terminal.err("line \(line.number): business key '\(line.businessKey ?? "")' already used; this is the existing instance\n")
                }
                Terminal.out("\(record.id)\n")
            }
        }
        guard let failure else { return }
        let line = lines.lines[failure.index].number
        let done = results.compactMap { $0 }.count
        let message = "line \(line) of \(inputs ?? "-"): could not start the instance: "
            + "\((failure.error as? StoreError)?.description ?? "\(failure.error)"); "
            + "\(done) of \(lines.lines.count) instances were started (\(started.count) in line order before it)"
        let code: Int32 = failure.error is StoreError ? SagaExit.database : SagaExit.internalError
        throw CommandFailure(message, hint: businessKeyField == nil
                                ? "the ids printed were started; start the remaining lines again"
                                : "running the same file again starts only the lines not yet started", code: code)
    }
}

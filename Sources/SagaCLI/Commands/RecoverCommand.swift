import ArgumentParser
import Dispatch
import Foundation
import Interpreter
import StateLang

struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Finish every instance whose executor died; resolve instances that ended unknown.",
        discussion: """
            Takes over instances whose lease expired or whose owner process on this host is gone \
            (at once, no waiting), and drives each to its end exactly as an uninterrupted run would \
            have. Then applies each unknown instance's RecoverStrategy (Compensate by default, \
            Forward when the workflow says so), unless --no-unknown.
            """)

    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    // 256, not 64 as for `worker`: recovery is bound by commits, and more instances at once
    // share each one (10,000 abandoned instances: 9.6 s at 64, 4.4 s at 256).
    @Option(name: .long, help: "Instances run at once (their service calls too).") var concurrency = 256
    @Flag(name: .long, help: "Leave instances that ended unknown alone.") var noUnknown = false
    @OptionGroup var lease: LeaseOption

    func run() async throws {
        let bindings = try services.load()
        let store = try await database.open(mustExist: true)
        let engine = EngineSetup.make(store: store, services: bindings, leaseDuration: lease.leaseSeconds)
        for definition in try await store.listInstances(InstanceQuery(limit: 1)) {
            if let d = try await store.definition(fingerprint: definition.definitionFingerprint) {
                SiblingWorkflows.shared.remember(directoryOf: d.path)
            }
        }
        let report: RecoveryReport
        do {
            report = try await engine.recover(concurrency: concurrency, includeUnknown: !noUnknown)
        } catch let error as StoreError {
            throw CommandFailure.store(error, path: database.path)
        }
        let counts = try await store.countByStatus()
        if output.json {
            Terminal.out(JSONValue.object([
                "resumed": .array(report.resumed.map { .object(["id": .string($0.id), "status": .string($0.status.rawValue)]) }),
                "resolved": .array(report.resolved.map { .object(["id": .string($0.id), "status": .string($0.status.rawValue)]) }),
                "errors": .array(report.errors.map { .object(["id": .string($0.0), "error": .string($0.1)]) }),
                "counts": .object(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            ]).jsonString(pretty: true) + "\n")
        } else {
            Terminal.out("recovered \(report.resumed.count) abandoned instance\(report.resumed.count == 1 ? "" : "s"), resolved \(report.resolved.count) unknown\n")
            for (id, error) in report.errors { Terminal.err("  \(id): \(error)\n") }
            Terminal.out(StatusCounts.line(counts) + "\n")
        }
        let running = (counts[.running] ?? 0) + (counts[.compensating] ?? 0)
        if !report.errors.isEmpty { throw ExitCode(SagaExit.attention) }
        if running > 0 {
            Terminal.err("\(running) instance\(running == 1 ? " is" : "s are") still held by live executors\n")
        }
    }
}

enum StatusCounts {
    static func line(_ counts: [InstanceStatus: Int]) -> String {
        InstanceStatus.allCases.compactMap { status in
            counts[status].flatMap { $0 > 0 ? "\(status.rawValue): \($0)" : nil }
        }.joined(separator: ", ")
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run instances created by `start`, and take over abandoned ones, until stopped.",
        discussion: """
            Several workers may share one database: each instance is leased to one of them. Stop \
            with Ctrl-C or SIGTERM: the worker stops taking new instances and finishes the ones \
            it runs. With --until-idle it returns when nothing is left to run.
            """)

    @OptionGroup var services: ServicesOption
    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "Instances run at once.") var concurrency = 64
    @Flag(name: .long, help: "Return once nothing is running or runnable.") var untilIdle = false
    @Flag(name: .shortAndLong, help: "Print only the summary.") var quiet = false
    @OptionGroup var lease: LeaseOption

    func run() async throws {
        let bindings = try services.load()
        let store = try await database.open()
        let engine = EngineSetup.make(store: store, services: bindings, leaseDuration: lease.leaseSeconds)
        for record in try await store.listInstances(InstanceQuery(status: .running, limit: 50)) {
            if let d = try await store.definition(fingerprint: record.definitionFingerprint) {
                SiblingWorkflows.shared.remember(directoryOf: d.path)
            }
        }
        let printer = ProgressPrinter(quiet: true)
        engine.observe { event in
            printer.handle(event)
            if !quiet, case .finished(let id, let status) = event { Terminal.err("\(id) \(status.rawValue)\n") }
        }
        let stop = StopSignal.install()
        let count = try await engine.work(concurrency: concurrency, untilIdle: untilIdle, shouldStop: { stop.isSet })
        Terminal.err("worker stopped after \(count) instance\(count == 1 ? "" : "s")\n")
    }
}

/// `--lease-seconds S` of `worker` and `recover`.
struct LeaseOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "How long an instance stays leased to this process without renewal (renewed every third of it). "
            + "When the process dies, a worker on another machine takes its instances over after this long; "
            + "one on the same machine at once.",
        valueName: "seconds"))
    var leaseSeconds: Double = 30

    func validate() throws {
        guard leaseSeconds >= 1, leaseSeconds <= 86_400 else {
            throw ValidationError("--lease-seconds must be between 1 and 86400")
        }
    }
}

/// Set by SIGINT or SIGTERM.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var sources: [DispatchSourceSignal] = []

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }

    static func install() -> StopSignal {
        let stop = StopSignal()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                stop.lock.lock()
                stop.flag = true
                stop.lock.unlock()
            }
            source.resume()
            stop.sources.append(source)
        }
        return stop
    }
}

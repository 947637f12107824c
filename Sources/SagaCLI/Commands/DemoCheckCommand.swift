import ArgumentParser
import DemoShop
import Foundation
import Interpreter
import StateLang

struct DemoCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Run the consistency checker over the shop's databases and the saga store.",
        discussion: """
            Run it with the shop stopped (or idle). Prints what the store says about the sagas \
            (statuses, retries, compensations, the outbox) and the checker's verdict. Exit status \
            2 when an invariant is violated, or, with --require-settled, when a saga is not \
            settled.

            --require-settled also fails when an instance is still running or compensating, \
            ended unknown, needs intervention without a recorded reason, or has a notification \
            still pending in the outbox: what a chaos run asks once recovery is over.
            """)

    @Option(name: .long, help: ArgumentHelp("The shop's databases.", valueName: "dir")) var directory = "./demo-shop"
    @Flag(name: .long, help: "Fail unless every saga has settled (see below).") var requireSettled = false
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try await database.open(mustExist: true)
        let instances = try await store.listInstances(InstanceQuery(workflowName: nil, topLevelOnly: true, limit: 10_000_000))
        let summaries = instances.map {
            SagaSummary(instanceID: $0.id, status: SagaSummary.Status(rawValue: $0.status.rawValue) ?? .running, input: $0.input)
        }
        var steps: [StepRecord] = []
        for instance in instances { steps += try await store.steps(of: instance.id) }
        let outbox = try await store.listOutbox(status: nil, limit: 10_000_000)
        let figures = SagaFigures(instances: instances, steps: steps, outbox: outbox)
        let report = try ShopChecker.check(directory: URL(fileURLWithPath: directory), sagas: summaries)
        let unsettled = requireSettled ? figures.unsettled : []
        let passed = report.passed && unsettled.isEmpty
        if output.json {
            let checker = try JSONValue(parsing: String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
            Terminal.out(JSONValue.object([
                "passed": .bool(passed), "sagas": figures.json(),
                "unsettled": .array(report.unsettledSagas.map { .string($0) }),
                "not_settled": .array(unsettled.map { .string($0) }),
                "invariant_violations": .int(report.violations.reduce(0) { $0 + $1.ids.count }),
                "violations": .array(report.violations.map { .string($0.description) }),
                "checker": checker,
            ]).jsonString(pretty: true) + "\n")
        } else {
            Terminal.out(figures.text())
            for problem in unsettled.prefix(20) { Terminal.out("not settled: \(problem)\n") }
            if unsettled.count > 20 { Terminal.out("not settled: … and \(unsettled.count - 20) more\n") }
            Terminal.out(report.passed ? "consistency check: PASSED (\(summaries.count) sagas)\n" : "consistency check: FAILED\n\(report.description)\n")
        }
        if !passed { throw ExitCode(SagaExit.attention) }
    }
}

/// What the saga store says about a run: statuses, retries, compensations, the outbox, and
/// which sagas have not settled.
struct SagaFigures {
    var counts: [InstanceStatus: Int] = [:]
    /// Step rows with attempt > 1: calls made again with the same idempotency key (`Retry`
    /// attempts, and calls made again after an executor died during them).
    var retries = 0
    /// Compensation step rows (attempts included).
    var compensationSteps = 0
    /// Instances that needs intervention, with the reason recorded (`name: message`).
    var needsIntervention: [(InstanceID, String?)] = []
    var outbox: [OutboxStatus: Int] = [:]
    /// One line per saga that has not settled, and per pending outbox message.
    var unsettled: [String] = []

    init(instances: [InstanceRecord], steps: [StepRecord], outbox messages: [OutboxMessage]) {
        for instance in instances {
            counts[instance.status, default: 0] += 1
            switch instance.status {
            case .running, .compensating:
                unsettled.append("\(instance.id) is still \(instance.status.rawValue)")
            case .unknown:
                unsettled.append("\(instance.id) ended unknown (recover resolves it by its RecoverStrategy)")
            case .needsIntervention:
                let reason = instance.failure.flatMap { failure in
                    failure.message.isEmpty ? nil : "\(failure.name): \(failure.message)"
                }
                needsIntervention.append((instance.id, reason))
                if reason == nil { unsettled.append("\(instance.id) needs intervention and records no reason") }
            case .succeeded, .failed, .compensated:
                break
            }
        }
        for step in steps {
            if step.attempt > 1 { retries += 1 }
            if step.phase == .compensation { compensationSteps += 1 }
        }
        for message in messages {
            outbox[message.status, default: 0] += 1
            if message.status == .pending {
                unsettled.append("outbox message \(message.id) of \(message.instanceID) (\(message.stateName)) is still pending")
            }
        }
    }

    func json() -> JSONValue {
        var statuses: [String: JSONValue] = [:]
        for status in InstanceStatus.allCases { statuses[status.rawValue] = .int(counts[status] ?? 0) }
        var box: [String: JSONValue] = [:]
        for status in OutboxStatus.allCases { box[status.rawValue] = .int(outbox[status] ?? 0) }
        return .object([
            "total": .int(counts.values.reduce(0, +)), "statuses": .object(statuses), "retries": .int(retries),
            "compensation_steps": .int(compensationSteps), "outbox": .object(box),
            "needs_intervention": .array(needsIntervention.map {
                .object(["id": .string($0.0), "reason": $0.1.map(JSONValue.string) ?? .null])
            }),
        ])
    }

    func text() -> String {
        let statuses = InstanceStatus.allCases.compactMap { status in
            counts[status].map { "\(status.rawValue) \($0)" }
        }.joined(separator: ", ")
        var out = "sagas: \(counts.values.reduce(0, +)) (\(statuses))\n"
        out += "retries: \(retries); compensation steps: \(compensationSteps)\n"
        out += "outbox: " + OutboxStatus.allCases.map { "\($0.rawValue) \(outbox[$0] ?? 0)" }.joined(separator: ", ") + "\n"
        for (id, reason) in needsIntervention.prefix(20) {
            out += "needs intervention: \(id): \(reason ?? "no reason recorded")\n"
        }
        return out
    }
}

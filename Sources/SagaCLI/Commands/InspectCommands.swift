import ArgumentParser
import Foundation
import Interpreter
import StateLang

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List instances, newest first.",
        discussion: "Statuses: running, succeeded, failed, compensating, compensated, unknown, needs-intervention.")

    @Option(name: .long, help: "Only instances with this status.") var status: InstanceStatus?
    @Option(name: .long, help: "Only instances of this workflow (its Name).") var workflow: String?
    @Option(name: .long, help: "At most this many.") var limit = 50
    @Flag(name: .long, help: "Include SubStateMachine children.") var all = false
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try await database.open(mustExist: true)
        let records = try await store.listInstances(
            InstanceQuery(status: status, workflowName: workflow, topLevelOnly: !all, limit: limit))
        if output.json {
            Terminal.out(JSONValue.array(records.map { RecordJSON.instance($0) }).jsonString(pretty: true) + "\n")
            return
        }
        if records.isEmpty {
            Terminal.err("no instances\(status.map { " with status \($0.rawValue)" } ?? "") in \(database.path)\n")
            return
        }
        var table = TextTable(["ID", "WORKFLOW", "STATUS", "BUSINESS KEY", "STARTED", "ERROR"])
        for r in records {
            table.add([r.id, r.workflowName, r.status.rawValue, r.businessKey ?? "-", TextTable.time(r.createdAt),
                       r.failure.map { "\($0.name)" } ?? ""])
        }
        Terminal.out(table.render())
    }
}

extension InstanceStatus: ExpressibleByArgument {}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show one instance: status, context, error, lease.")

    @Argument(help: "The instance id.") var id: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try await database.open(mustExist: true)
        guard let r = try await store.instance(id: id) else {
            throw CommandFailure("no instance \(id) in \(database.path)", hint: "`sagactl list` shows the instances", code: SagaExit.usage)
        }
        let steps = try await store.steps(of: id)
        let circuits = try await Self.circuits(of: r, in: store)
        if output.json {
            guard case .object(var object) = RecordJSON.instance(r, steps: steps) else { preconditionFailure("an instance is an object") }
            object["circuits"] = .array(circuits.map(RecordJSON.circuit))
            Terminal.out(JSONValue.object(object).jsonString(pretty: true) + "\n")
            throw ExitCode(SagaExit.code(for: r.status))
        }
        var lines = [
            "instance      \(r.id)",
            "workflow      \(r.workflowName) (definition \(r.definitionFingerprint.prefix(12)))",
            "status        \(r.status.rawValue)  (Seata: status \(r.forwardStatus.rawValue), compensation \(r.compensationStatus?.rawValue ?? "-"))",
        ]
        if let key = r.businessKey { lines.append("business key  \(key)") }
        if let parent = r.parentID { lines.append("parent        \(parent)") }
        lines.append("started       \(TextTable.time(r.createdAt))")
        if let ended = r.endedAt { lines.append("ended         \(TextTable.time(ended)) (\(String(format: "%.3f", ended.timeIntervalSince(r.createdAt))) s)") }
        if let owner = r.leaseOwner, !r.status.isTerminal {
            lines.append("held by       \(owner) until \(TextTable.time(r.leaseExpiresAt ?? r.updatedAt))")
        }
        if let wake = r.wakeAt { lines.append("next attempt  \(TextTable.time(wake))") }
        if let f = r.failure { lines.append("error         \(f.name): \(f.message)\(f.state.map { " (state \($0))" } ?? "")") }
        lines.append("steps         \(steps.filter { $0.phase == .forward }.count) forward, \(steps.filter { $0.phase == .compensation }.count) compensation rows")
        lines.append("input         \(r.input.jsonString())")
        lines.append("context       \(r.context.jsonString())")
        for (index, circuit) in circuits.enumerated() {
            lines.append((index == 0 ? "circuits      " : "              ") + "\(circuit.service): \(circuit.detail) "
                + "(since \(TextTable.time(circuit.changedAt)), in \(circuit.owner))")
        }
        Terminal.out(lines.joined(separator: "\n") + "\n")
        throw ExitCode(SagaExit.code(for: r.status))
    }

    /// The last recorded circuit change of each service the instance's workflow calls (of
    /// every service with one, when the stored definition does not compile with this build).
    static func circuits(of record: InstanceRecord, in store: any InstanceStore) async throws -> [CircuitRecord] {
        let recorded = try await store.circuits()
        if recorded.isEmpty { return [] }
        let workflow: Workflow
        do {
            workflow = try await SagaEngine(store: store).workflow(fingerprint: record.definitionFingerprint)
        } catch is EngineError {
            return recorded
        }
        let called = Set(workflow.states.compactMap { state -> String? in
            if case .serviceTask(let spec) = state.kind { spec.serviceName } else { nil }
        })
        return recorded.filter { called.contains($0.service) }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "The state executions of an instance: state, phase, attempt, status, duration, executor, error.")

    @Argument(help: "The instance id.") var id: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let store = try await database.open(mustExist: true)
        guard try await store.instance(id: id) != nil else {
            throw CommandFailure("no instance \(id) in \(database.path)", hint: "`sagactl list` shows the instances", code: SagaExit.usage)
        }
        let steps = try await store.steps(of: id)
        if output.json {
            Terminal.out(JSONValue.array(steps.map(RecordJSON.step)).jsonString(pretty: true) + "\n")
            return
        }
        var table = TextTable(["#", "STATE", "PHASE", "ATTEMPT", "STATUS", "DURATION", "EXECUTOR", "ERROR"])
        for s in steps {
            let duration = s.endedAt.map { String(format: "%.1f ms", $0.timeIntervalSince(s.startedAt) * 1000) } ?? "-"
            var error = s.failure.map { "\($0.name): \($0.message)" } ?? ""
            if let retry = s.retryAt { error += " (retry at \(TextTable.time(retry)))" }
            // host/pid: which process made the call (the nonce is in --json).
            let executor = s.executor.map { "\($0.host)/\($0.pid)" } ?? "-"
            table.add([String(s.seq), s.stateName, s.phase.rawValue, String(s.attempt), s.status.rawValue, duration,
                       executor, error])
        }
        Terminal.out(table.render())
    }
}

/// Left-aligned columns for terminal tables.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String]) { self.headers = headers }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], min(cell.count, 80)) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let text = cell.count > 80 ? String(cell.prefix(79)) + "…" : cell
                return i == cells.count - 1 ? text : text + String(repeating: " ", count: widths[i] - text.count + 2)
            }.joined()
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    static func time(_ date: Date) -> String {
        ISO8601DateFormatter.withFractions.string(from: date)
    }
}

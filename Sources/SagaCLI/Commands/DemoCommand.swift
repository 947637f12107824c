import ArgumentParser
import DemoShop
import Foundation
import Interpreter
import SQLiteStore
import StateLang

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The one-command tour: the checkout saga against five real services, with faults, and a consistency check.",
        discussion: """
            Starts the demo shop (inventory, orders, payments, points, notifications: five HTTP \
            services on loopback, each with its own SQLite database) in this process, runs a few \
            hundred checkouts of workflows/order-payment.yaml on the embedded SQLite store — \
            some declined at payment, some at points, some over flaky networks — then prints \
            what happened and the consistency checker's verdict: no oversold stock, money and \
            points conserved, every compensated order cancelled and refunded, every succeeded \
            one notified once.

            Examples:
              sagactl demo
              sagactl demo --sagas 1000 --fault-rate 0.2
              sagactl demo serve --faults 'payments.pay:rate=0.2,kind=5xx'
            """,
        subcommands: [DemoTourCommand.self, DemoServeCommand.self, DemoOrdersCommand.self, DemoCheckCommand.self],
        defaultSubcommand: DemoTourCommand.self)
}

struct DemoTourCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tour", abstract: "Run the tour (the default).")

    @Option(name: .long, help: "Checkouts to run.") var sagas = 300
    @Option(name: .long, help: "Checkouts in flight at once.") var concurrency = 32
    @Option(name: .long, help: "Probability of an injected fault per call to inventory, orders, payments and points (an HTTP 5xx, a reply dropped after the commit, or a connection reset, in equal shares).")
    var faultRate = 0.05
    @Option(name: .long, help: ArgumentHelp("Keep the databases in this directory (default: a temporary one, removed).", valueName: "dir"))
    var directory: String?
    @Option(name: .long, help: "Seed of the orders and of the faults.") var seed: UInt64 = 1
    @Option(name: .long, help: "The workflow to run.") var workflow = "workflows/order-payment.yaml"
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard sagas > 0, concurrency > 0 else { throw ValidationError("--sagas and --concurrency must be positive") }
        guard (0...1).contains(faultRate) else { throw ValidationError("--fault-rate is a probability between 0 and 1") }
    }

    func run() async throws {
        let keep = directory != nil
        let root = URL(fileURLWithPath: directory ?? NSTemporaryDirectory() + "sagactl-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(at: root) } }
        let faults = try DemoFaults.tour(rate: faultRate, seed: seed)
        let shop = try await DemoShop.start(directory: root.appendingPathComponent("shop"), faults: faults)
        do {
            let report = try await DemoTour.run(
                shop: shop, root: root, workflowPath: workflow, sagas: sagas, concurrency: concurrency, seed: seed,
                faultRate: faultRate, json: output.json)
            try await shop.stop()
            Terminal.out(output.json ? report.json().jsonString(pretty: true) + "\n" : report.text())
            if !report.check.passed || report.attention > 0 { throw ExitCode(SagaExit.attention) }
        } catch {
            try? await shop.stop()
            throw error
        }
    }
}

/// The faults of the tour: network trouble on every service call (5xx, dropped replies after
/// the commit, resets) at `rate`, plus a little latency. Notifications only get latency: the
/// outbox gives them 3 attempts, and the checker wants every succeeded order notified.
enum DemoFaults {
    static func tour(rate: Double, seed: UInt64) throws -> FaultSpec {
        guard rate > 0 else { return try FaultSpec(parsing: "*.*:latency=1ms", seed: seed) }
        let share = rate / 3
        var rules: [String] = []
        for service in ["inventory", "orders", "payments", "points"] {
            rules.append("\(service).*:rate=\(share),kind=5xx")
            rules.append("\(service).*:rate=\(share),kind=drop")
            rules.append("\(service).*:rate=\(share),kind=reset")
        }
        rules.append("*.*:rate=0.2,latency=2ms")
        do {
            return try FaultSpec(parsing: rules.joined(separator: ";"), seed: seed)
        } catch {
            throw CommandFailure("internal fault spec is invalid: \(error)", code: SagaExit.internalError)
        }
    }
}

/// What the tour measured.
struct DemoReport {
    var sagas: Int
    var seconds: Double
    var counts: [InstanceStatus: Int]
    var retries: Int
    var calls: Int
    var latencies: [Double]
    var outboxDelivered: Int
    var outboxFailed: Int
    var faults: String
    var faultRate: Double
    var check: CheckReport

    var attention: Int { (counts[.unknown] ?? 0) + (counts[.needsIntervention] ?? 0) + (counts[.running] ?? 0) }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        return sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1))] * 1000
    }

    func json() -> JSONValue {
        var counts: [String: JSONValue] = [:]
        for status in InstanceStatus.allCases { counts[status.rawValue] = .int(self.counts[status] ?? 0) }
        return .object([
            "sagas": .int(sagas), "seconds": .double(seconds), "sagas_per_second": .double((Double(sagas) / seconds).rounded()),
            "p50_ms": .double(percentile(0.5)), "p99_ms": .double(percentile(0.99)), "statuses": .object(counts),
            "retries": .int(retries), "calls": .int(calls),
            "compensation_rate": .double(Double(self.counts[.compensated] ?? 0) / Double(max(sagas, 1))),
            "outbox_delivered": .int(outboxDelivered), "outbox_failed": .int(outboxFailed), "faults": .string(faults),
            "check_passed": .bool(check.passed),
            "violations": .array(check.violations.map { .string($0.description) }),
        ])
    }

    func text() -> String {
        var rows = [
            ("checkouts", "\(sagas) in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", Double(sagas) / seconds)) sagas/s, p50 \(String(format: "%.0f", percentile(0.5))) ms, p99 \(String(format: "%.0f", percentile(0.99))) ms)"),
        ]
        for status in [InstanceStatus.succeeded, .compensated, .failed, .unknown, .needsIntervention, .running] {
            let n = counts[status] ?? 0
            if n > 0 || status == .succeeded || status == .compensated || status == .unknown || status == .needsIntervention {
                rows.append((status.rawValue, "\(n)"))
            }
        }
        rows.append(("compensation rate", String(format: "%.1f %%", 100 * Double(counts[.compensated] ?? 0) / Double(max(sagas, 1)))))
        rows.append(("service calls", "\(calls), of which \(retries) retries"))
        rows.append(("notifications", "\(outboxDelivered) delivered through the outbox, \(outboxFailed) failed"))
        rows.append(("faults injected", faultRate == 0 ? "none" : String(format: "%.0f %% of calls to inventory, orders, payments and points fail (5xx, reply dropped after commit, reset); 2 ms latency on 20 %% of calls", faultRate * 100)))
        let width = rows.map(\.0.count).max() ?? 0
        var out = rows.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n") + "\n"
        out += check.passed
            ? "consistency check: PASSED — stock, money and points conserved; every order paid once, undone or notified as its saga says\n"
            : "consistency check: FAILED\n" + check.description + "\n"
        return out
    }
}

enum DemoTour {
    static func run(shop: RunningShop, root: URL, workflowPath: String, sagas: Int, concurrency: Int, seed: UInt64,
                    faultRate: Double, json: Bool) async throws -> DemoReport {
        for (name, value) in shop.environment { setenv(name, value, 1) }
        let store = try SQLiteInstanceStore(path: root.appendingPathComponent("sagas.sqlite").path)
        let engine = EngineSetup.make(store: store, services: [:])
        let (workflow, source) = try EngineSetup.compile(workflowPath, externalServices: nil)
        engine.register(workflow, source: source)
        let counters = DemoCounters()
        let progress = BenchProgress(total: sagas, enabled: !json && Terminal.stderrIsTTY)
        engine.observe { counters.record($0) }
        if !json {
            Terminal.err("shop: 5 services on 127.0.0.1 (\(shop.ports.values.sorted().map(String.init).joined(separator: ", "))), data in \(root.path)\n")
            Terminal.err("running \(sagas) checkouts of \(workflow.name), \(concurrency) at a time…\n")
        }
        let orders = ShopSeed.standard.orders(count: sagas, seed: seed)
        let started = Date()
        let latencies = try await withThrowingTaskGroup(of: Double.self) { group in
            var latencies: [Double] = []
            var next = 0
            func add() {
                let input = orders[next]
                next += 1
                group.addTask {
                    let t0 = Date()
                    _ = try await engine.run(workflow, input: input)
                    return Date().timeIntervalSince(t0)
                }
            }
            while next < min(concurrency, sagas) { add() }
            while let latency = try await group.next() {
                latencies.append(latency)
                progress.tick()
                if next < sagas { add() }
            }
            return latencies
        }
        // The dispatcher inside the tour: deliver every notification (with its retries).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try await engine.deliverDueOutbox(limit: 512, concurrency: 32)
            if try await store.listOutbox(status: .pending, limit: 1).isEmpty { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let seconds = Date().timeIntervalSince(started)
        progress.finish()
        let instances = try await store.listInstances(InstanceQuery(topLevelOnly: true, limit: sagas * 2))
        let summaries = instances.map { record in
            SagaSummary(instanceID: record.id, status: SagaSummary.Status(rawValue: record.status.rawValue) ?? .running,
                        input: record.input)
        }
        let check = try ShopChecker.check(directory: shop.directory, sagas: summaries)
        let outbox = try await store.listOutbox(status: nil, limit: sagas * 2)
        let counts = try await store.countByStatus()
        try store.close()
        return DemoReport(
            sagas: sagas, seconds: seconds, counts: counts, retries: counters.retries, calls: counters.calls,
            latencies: latencies, outboxDelivered: outbox.filter { $0.status == .delivered }.count,
            outboxFailed: outbox.filter { $0.status == .failed }.count, faults: shop.faults.description,
            faultRate: faultRate, check: check)
    }
}

final class DemoCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var retryCount = 0
    private var callCount = 0

    func record(_ event: EngineEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .retryScheduled: retryCount += 1
        case .called: callCount += 1
        default: break
        }
    }

    var retries: Int { lock.lock(); defer { lock.unlock() }; return retryCount }
    var calls: Int { lock.lock(); defer { lock.unlock() }; return callCount }
}

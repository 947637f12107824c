import ArgumentParser
import DemoShop
import Foundation

struct DemoServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Start the demo shop and keep it running until Ctrl-C or SIGTERM.",
        discussion: """
            Listens on free loopback ports and prints the environment variables that point \
            workflows/order-payment.yaml at them, one `export INVENTORY_URL=http://127.0.0.1:PORT` \
            line per service on standard output; source them in another shell, then:
              sagactl run workflows/order-payment.yaml --input @examples/order.json
            Fault spec: rules separated by ';', e.g.
              'payments.pay:rate=0.2,kind=5xx;inventory.*:latency=50ms;notifications:down'
            kinds: 5xx, timeout, reset, drop (commit then drop the reply), down; latency=DURATION. \
            Outages (refused connections): --outage-every 5s takes a random service down every \
            2.5–7.5 s for 0.5–1.5 × --outage-length; its listener closes, so connecting is refused.
            """)

    @Option(name: .long, help: ArgumentHelp("The shop's databases (kept between runs).", valueName: "dir"))
    var directory = "./demo-shop"
    @Option(name: .long, help: ArgumentHelp("Faults to inject.", valueName: "spec")) var faults: String?
    @Option(name: .long, help: "Seed of the fault decisions and of the outage schedule.") var seed: UInt64 = 1
    @Option(name: .long, help: ArgumentHelp(
        "Mean time between outages (a service refusing connections), e.g. 5s; none by default.", valueName: "duration"))
    var outageEvery: String?
    @Option(name: .long, help: ArgumentHelp("Mean length of an outage.", valueName: "duration"))
    var outageLength = "1s"
    @Option(name: .long, help: ArgumentHelp(
        "Services that may have outages, comma-separated.", valueName: "names"))
    var outageServices = "inventory,orders,payments,points"
    @Option(name: .long, help: ArgumentHelp(
        "On stopping, write the faults injected (JSON) to this file.", valueName: "file"))
    var report: String?
    @Option(name: .long, help: ArgumentHelp(
        "A new shop starts with this many times the standard stock, balances and points (for long runs; "
            + "give `demo orders` the same --scale).", valueName: "factor"))
    var scale = 1

    func validate() throws {
        guard scale > 0 else { throw ValidationError("--scale must be positive") }
    }

    func run() async throws {
        let spec: FaultSpec
        do {
            spec = try faults.map { try FaultSpec(parsing: $0, seed: seed) } ?? .none
        } catch {
            throw CommandFailure("--faults: \((error as? FaultSpecError)?.rendered ?? "\(error)")", hint: "e.g. 'payments.pay:rate=0.2,kind=5xx'", code: SagaExit.usage)
        }
        var plan = try outagePlan()
        // Free ports chosen by the system: two shops never collide; the lines below say where.
        let shop = try await DemoShop.start(
            directory: URL(fileURLWithPath: directory), seed: ShopSeed.standard.scaled(by: scale), faults: spec)
        // Before the ports are printed: whoever reads them may stop the shop at once.
        let stop = StopSignal.install()
        for (name, value) in shop.environment.sorted(by: { $0.key < $1.key }) { Terminal.out("export \(name)=\(value)\n") }
        Terminal.err("demo shop running (data in \(directory)); Ctrl-C stops it\n")
        do {
            var nextOutage = plan.map { (ContinuousClock.now + $0.peek.after, $0.peek) }
            while !stop.isSet {
                if let (due, outage) = nextOutage, ContinuousClock.now >= due {
                    try await shop.setDown(outage.service, true, for: outage.length)
                    Terminal.err("outage: \(outage.service) refuses connections for \(FaultDuration.format(outage.length))\n")
                    plan?.advance()
                    nextOutage = plan.map { (due + $0.peek.after, $0.peek) }
                }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        } catch {
            try? await shop.stop()
            throw error
        }
        let counts = shop.faultCounts
        try await shop.stop()
        Terminal.err("demo shop stopped: \(Self.summary(counts))\n")
        if let report { try Self.write(counts, to: report) }
    }

    /// The outage schedule the options ask for, with its first outage drawn.
    private func outagePlan() throws -> PeekedOutagePlan? {
        guard let outageEvery else { return nil }
        guard let every = FaultDuration.parse(outageEvery), every > .zero else {
            throw CommandFailure("--outage-every: '\(outageEvery)' is not a positive duration", hint: "a number and ms or s: 5s, 800ms",
                                 code: SagaExit.usage)
        }
        guard let length = FaultDuration.parse(outageLength), length > .zero else {
            throw CommandFailure("--outage-length: '\(outageLength)' is not a positive duration", hint: "a number and ms or s: 1s, 500ms",
                                 code: SagaExit.usage)
        }
        var services: [ShopService] = []
        for name in outageServices.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let service = ShopService(rawValue: trimmed) else {
                throw CommandFailure(
                    "--outage-services: unknown service '\(trimmed)'",
                    hint: "services are \(ShopService.allCases.map(\.rawValue).joined(separator: ", "))", code: SagaExit.usage)
            }
            if !services.contains(service) { services.append(service) }
        }
        guard let plan = OutagePlan(every: every, length: length, services: services, seed: seed) else {
            throw CommandFailure("--outage-services names no service", code: SagaExit.usage)
        }
        return PeekedOutagePlan(plan)
    }

    static func summary(_ counts: FaultCounts) -> String {
        "\(counts.requests) requests; faults injected: \(counts.serverErrors) 5xx, \(counts.timeouts) timeouts, "
            + "\(counts.resets) resets, \(counts.droppedReplies) dropped replies, \(counts.delayed) delayed, "
            + "\(counts.outages) outages (\(String(format: "%.1f", counts.outageSeconds)) s refusing connections)"
    }

    static func write(_ counts: FaultCounts, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            var data = try encoder.encode(counts)
            data.append(0x0A)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure("cannot write the fault report \(path): \(error.localizedDescription)", code: SagaExit.internalError)
        }
    }
}

/// An outage plan with its next outage drawn, so the loop can wait for it.
struct PeekedOutagePlan {
    private var plan: OutagePlan
    private(set) var peek: OutagePlan.Outage

    init(_ plan: OutagePlan) {
        self.plan = plan
        self.peek = self.plan.next()
    }

    mutating func advance() { peek = plan.next() }
}

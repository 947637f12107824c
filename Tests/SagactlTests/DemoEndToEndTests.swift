import DemoShop
import Foundation
import Interpreter
import StateLang
import Testing

/// The checkout over real HTTP on loopback against the demo shop, judged by its consistency
/// checker (issue "Real services").
@Suite("Demo shop, end to end", .serialized)
struct DemoEndToEndTests {
    let dir: URL
    /// The case's database: an SQLite file in `dir`, or a fresh PostgreSQL schema (see `TestDatabase`).
    var db: String { TestDatabase.location(in: dir) }

    init() throws { dir = try CLI.temporaryDirectory() }

    /// The README's first command as it is (its 300 checkouts, 5 % faults), and the same with
    /// the shop's fault rates at 20 %. (How long they take is a benchmark figure, not a check.)
    @Test("`sagactl demo` as the README runs it, and with 20 % faults: every saga ends settled and the checker passes",
          arguments: [[], ["--fault-rate", "0.2"]])
    func tour(arguments: [String]) async throws {
        let result = try await CLI.run(["demo"] + arguments + ["--json"], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["check_passed"] as? Bool == true, "\(json["violations"] ?? "")")
        let statuses = json["statuses"] as? [String: Int] ?? [:]
        #expect((statuses["succeeded"] ?? 0) + (statuses["compensated"] ?? 0) == 300, "\(statuses)")
        #expect((statuses["succeeded"] ?? 0) > 0 && (statuses["compensated"] ?? 0) > 0, "\(statuses)")
        #expect((json["retries"] as? Int ?? 0) > 0, "faults should have caused retries")
    }

    /// Why the case's instances that did not succeed or compensate ended as they did (their
    /// status, failure and state), for a failure message.
    func unsettledReasons() async throws -> [String] {
        let store = try #require(TestDatabase.currentStore, "unsettledReasons() runs inside a TestDatabase case")
        return try await store.listInstances(InstanceQuery(topLevelOnly: true, limit: 10_000))
            .filter { $0.status != .succeeded && $0.status != .compensated }
            .map { "\($0.id) \($0.status.rawValue) at \($0.failure?.state ?? "?"): \($0.failure?.name ?? "") \($0.failure?.message ?? "")" }
    }

    /// The sagas of the case's database, for the shop's checker.
    func summaries() async throws -> [SagaSummary] {
        let store = try #require(TestDatabase.currentStore, "summaries() runs inside a TestDatabase case")
        return try await store.listInstances(InstanceQuery(topLevelOnly: true, limit: 10_000)).map {
            SagaSummary(instanceID: $0.id, status: SagaSummary.Status(rawValue: $0.status.rawValue) ?? .running, input: $0.input)
        }
    }

    @Test("kill -9 of workers under load over HTTP, then recover: the checker passes", arguments: TestDatabase.underTest)
    func killDuringLoad(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            // Faults on the saga's own calls; notifications (3 outbox attempts, then `failed` for a
            // person to retry, as `outboxAfterOutage` shows) only get latency.
            var rules: [String] = []
            for service in ["inventory", "orders", "payments", "points"] {
                rules += ["\(service).*:rate=0.1,kind=5xx", "\(service).*:rate=0.05,kind=drop"]
            }
            rules.append("*.*:rate=0.3,latency=20ms")
            let faults = try FaultSpec(parsing: rules.joined(separator: ";"), seed: 7)
            let shop = try await DemoShop.start(directory: dir.appendingPathComponent("shop"), faults: faults)
            let env = shop.environment
            let orders = ShopSeed.standard.orders(count: 40, seed: 3)
            for order in orders {
                let started = try await CLI.run(["start", "workflows/order-payment.yaml", "--input", order.jsonString(), "--db", db],
                                                environment: env)
                #expect(started.status == 0, "\(started.stderr)")
            }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<4 {
                let worker = try CLI.spawn(["worker", "--concurrency", "8", "--db", db], environment: env)
                try await Task.sleep(nanoseconds: UInt64.random(in: 200_000_000...500_000_000, using: &generator))
                kill(worker.processIdentifier, SIGKILL)
                await CLI.waitForExit(worker)
            }
            let recovered = try await CLI.run(["recover", "--db", db, "--json"], environment: env, timeout: 180)
            #expect(recovered.status == 0, "\(recovered.stderr)")
            let sagas = try await summaries()
            #expect(sagas.count == orders.count)
            let unsettled = try await unsettledReasons()
            #expect(sagas.allSatisfy { $0.status == .succeeded || $0.status == .compensated },
                    "\(sagas.map(\.status)); not settled: \(unsettled)")
            let report = try ShopChecker.check(directory: shop.directory, sagas: sagas)
            #expect(report.passed, "\(report)")
            try await shop.stop()
        }
    }

    @Test("The outbox delivers a notification once the service is back, after marking it failed", arguments: TestDatabase.underTest)
    func outboxAfterOutage(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let shop = try await DemoShop.start(directory: dir.appendingPathComponent("shop"))
            let env = shop.environment
            try await shop.setDown(.notifications, true)
            let run = try await CLI.run(["run", "workflows/order-payment.yaml", "--input", "@examples/order.json", "--db", db],
                                        environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("failed    after 3 attempts: ConnectionRefused"), "\(run.stderr)")
            var report = try ShopChecker.check(directory: shop.directory, sagas: try await summaries())
            #expect(!report.passed, "an undelivered notification must be a violation")

            try await shop.setDown(.notifications, false)
            let failed = try await CLI.run(["outbox", "list", "--status", "failed", "--db", db, "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [[String: Any]])
            let id = try #require(rows.first?["id"] as? String)
            let retried = try await CLI.run(["outbox", "retry", id, "--db", db], environment: env)
            #expect(retried.status == 0, "\(retried.stderr)")
            // Sent again (same key): still notified once by effect.
            _ = try await CLI.run(["outbox", "retry", id, "--db", db], environment: env)
            report = try ShopChecker.check(directory: shop.directory, sagas: try await summaries())
            #expect(report.passed, "\(report)")
            try await shop.stop()
        }
    }

    @Test("The outbox delivers by itself when the notification service is back before its attempts run out",
          arguments: TestDatabase.underTest)
    func outboxRedeliversAfterShortOutage(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let shop = try await DemoShop.start(directory: dir.appendingPathComponent("shop"))
            let env = shop.environment
            try await shop.setDown(.notifications, true)
            let db = self.db
            let run = Task {
                try await CLI.run(["run", "workflows/order-payment.yaml", "--input", "@examples/order.json", "--db", db],
                                  environment: env)
            }
            // The first delivery attempt fails (refused); the next comes a second later.
            let store = try #require(TestDatabase.currentStore)
            let deadline = Date().addingTimeInterval(120)
            var first: OutboxMessage?
            while Date() < deadline {
                first = try await store.listOutbox(status: nil, limit: 10).first { $0.attempts >= 1 }
                if first != nil { break }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            try await shop.setDown(.notifications, false)
            let result = try await run.value
            let attempt = try #require(first, "no delivery attempt was recorded")
            #expect(attempt.status == .pending, "the outage outlasted the attempts: \(attempt)")
            #expect(attempt.lastError?.name == "ConnectionRefused", "\(attempt)")
            #expect(result.status == 0, "\(result.stderr)")
            let messages = try await store.listOutbox(status: nil, limit: 10)
            #expect(messages.count == 1)
            #expect(messages.first?.status == .delivered, "\(messages)")
            #expect((messages.first?.attempts ?? 0) >= 2, "\(messages)")
            let report = try ShopChecker.check(directory: shop.directory, sagas: try await summaries())
            #expect(report.passed, "\(report)")
            try await shop.stop()
        }
    }

    @Test("A declined payment over HTTP is ActionError.InsufficientFunds and compensates; the shop agrees", arguments: TestDatabase.underTest)
    func declinedOverHTTP(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let shop = try await DemoShop.start(directory: dir.appendingPathComponent("shop"))
            let rich = #"{"userId": 1, "productId": 1, "quantity": 1, "amount": 100000000, "points": 0}"#
            let result = try await CLI.run(["run", "workflows/order-payment.yaml", "--input", rich, "--db", db, "--json"],
                                           environment: shop.environment)
            #expect(result.status == 1, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let steps = json["steps"] as? [[String: Any]] ?? []
            let pay = steps.first { $0["state"] as? String == "Pay" }
            #expect((pay?["error"] as? [String: Any])?["name"] as? String == "ActionError.InsufficientFunds")
            #expect(steps.filter { $0["phase"] as? String == "compensation" }.map { $0["state"] as? String } ==
                    ["Refund", "CancelOrder", "ReleaseStock"])
            let report = try ShopChecker.check(directory: shop.directory, sagas: try await summaries())
            #expect(report.passed, "\(report)")
            try await shop.stop()
        }
    }
}

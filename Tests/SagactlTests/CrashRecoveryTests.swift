import Foundation
import Testing

/// DESIGN §9: kill -9 at any moment, then `recover`, finishes every instance exactly as an
/// uninterrupted run would have, and no step's side effect happens under two keys.
@Suite("Crash and concurrency, end to end", .serialized)
struct CrashRecoveryTests {
    static let services = "examples/services-exec.yaml"
    let dir: URL
    /// The case's database: an SQLite file in `dir`, or a fresh PostgreSQL schema (see `TestDatabase`).
    var db: String { TestDatabase.location(in: dir) }
    var log: URL { dir.appendingPathComponent("calls.log") }

    init() throws { dir = try CLI.temporaryDirectory() }

    /// Starts `count` order-payment instances; every third pays 999, which the shop declines.
    func startInstances(_ count: Int) async throws -> [String: Bool] {
        var declined: [String: Bool] = [:]
        for n in 0..<count {
            let amount = n % 3 == 0 ? 999 : 20 + n
            let input = #"{"userId": \#(n), "productId": 1, "quantity": 1, "amount": \#(amount), "points": \#(n % 2)}"#
            let started = try await CLI.run(["start", "workflows/order-payment.yaml", "--input", input, "--db", db,
                                       "--services", Self.services])
            #expect(started.status == 0, "\(started.stderr)")
            declined[started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)] = amount == 999
        }
        return declined
    }

    var shopEnvironment: [String: String] {
        ["SHOP_LOG": log.path, "SHOP_FAIL_IF": #"pay:"amount":999"#, "SHOP_SLEEP": "0.01"]
    }

    /// The calls an uninterrupted run makes, by state, in order.
    static func expectedStates(declined: Bool, points: Bool) -> [String] {
        if declined { return ["ReserveStock", "CreateOrder", "Pay", "Refund", "CancelOrder", "ReleaseStock"] }
        return ["ReserveStock", "CreateOrder", "Pay"] + (points ? ["DeductPoints"] : []) + ["ConfirmStock", "NotifyUser"]
    }

    @Test("Twenty-plus SIGKILLs of workers at random moments, then recover: every instance ends as it would have", arguments: TestDatabase.underTest)
    func killAndRecover(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let declined = try await startInstances(45)
            var kills = 0
            var generator = SystemRandomNumberGenerator()
            let deadline = Date().addingTimeInterval(120)
            // Two slots per worker and 30 ms calls: a worker's short life gets through a few calls
            // only, so work remains for every kill (with 6 slots and 10 ms calls the 45 sagas could
            // all end before the twentieth kill, and each later worker waited 30 s for a call).
            let slowShop = shopEnvironment.merging(["SHOP_SLEEP": "0.03"]) { _, b in b }
            while kills < 22, Date() < deadline {
                let worker = try CLI.spawn(["worker", "--concurrency", "2", "--db", db, "--services", Self.services],
                                           environment: slowShop)
                // Kill while it works: once it has made a call (however slow the machine is), after
                // a random further moment.
                let callsBefore = ShopCall.read(log).count
                let started = Date()
                while ShopCall.read(log).count == callsBefore, worker.isRunning, Date().timeIntervalSince(started) < 30 {
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
                try await Task.sleep(nanoseconds: UInt64.random(in: 20_000_000...250_000_000, using: &generator))
                kill(worker.processIdentifier, SIGKILL)
                await CLI.waitForExit(worker)
                kills += 1
            }
            #expect(kills >= 20)
            // The dead workers' leases are void at once (same host, process gone).
            var rounds = 0
            while rounds < 5 {
                let recovered = try await CLI.run(["recover", "--db", db, "--services", Self.services, "--no-unknown", "--json"],
                                            environment: shopEnvironment)
                #expect(recovered.status == 0, "\(recovered.stderr)")
                let list = try await CLI.run(["list", "--status", "running", "--db", db, "--json"])
                if list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]" { break }
                rounds += 1
            }
            let all = try await CLI.run(["list", "--db", db, "--json", "--limit", "1000"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
            #expect(rows.count == declined.count)
            let calls = ShopCall.read(log)
            // The kills must have landed mid-flight, or this test proves nothing: some calls were
            // made again after an interruption (attempt > 1 without a retry policy firing).
            var interrupted = 0
            for row in rows {
                let history = try await CLI.run(["history", row["id"] as! String, "--db", db, "--json"])
                if history.stdout.contains("\"Interrupted\"") { interrupted += 1 }
            }
            #expect(interrupted > 0, "no instance was interrupted during a call")
            for row in rows {
                let id = row["id"] as! String
                let isDeclined = try #require(declined[id])
                #expect(row["status"] as? String == (isDeclined ? "compensated" : "succeeded"), "instance \(id)")
                let mine = calls.filter { $0.instance == id }
                // Every logical step has exactly one key, however often it was called.
                for state in Set(mine.map(\.state)) {
                    let keys = Set(mine.filter { $0.state == state }.map(\.key))
                    #expect(keys.count == 1, "\(id) \(state) was called with keys \(keys)")
                }
                // The distinct steps, in order, are those of an uninterrupted run.
                var order: [String] = []
                for call in mine where order.last != call.state && !order.contains(call.state) { order.append(call.state) }
                let points = (row["input"] as? [String: Any])?["points"] as? Int == 1
                #expect(order == Self.expectedStates(declined: isDeclined, points: points), "instance \(id): \(order)")
            }
        }
    }

    @Test("Two workers on one database never run the same instance", arguments: TestDatabase.underTest)
    func twoWorkers(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let declined = try await startInstances(30)
            let env = shopEnvironment.merging(["SHOP_SLEEP": "0.005"]) { _, b in b }
            let a = try CLI.spawn(["worker", "--until-idle", "--concurrency", "4", "--db", db, "--services", Self.services], environment: env)
            let b = try CLI.spawn(["worker", "--until-idle", "--concurrency", "4", "--db", db, "--services", Self.services], environment: env)
            let deadline = Date().addingTimeInterval(90)
            while (a.isRunning || b.isRunning), Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
            if a.isRunning { kill(a.processIdentifier, SIGKILL) }
            if b.isRunning { kill(b.processIdentifier, SIGKILL) }
            await CLI.waitForExit(a)
            await CLI.waitForExit(b)
            #expect(a.terminationStatus == 0)
            #expect(b.terminationStatus == 0)
            let calls = ShopCall.read(log)
            // Had two workers run one instance, some (key, attempt) would appear twice.
            var seen: [String: Int] = [:]
            for call in calls { seen["\(call.key)#\(call.attempt)", default: 0] += 1 }
            #expect(seen.values.allSatisfy { $0 == 1 }, "\(seen.filter { $0.value > 1 })")
            let all = try await CLI.run(["list", "--db", db, "--json", "--limit", "1000"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
            #expect(rows.count == declined.count)
            #expect(rows.allSatisfy { ["succeeded", "compensated"].contains($0["status"] as? String) })
        }
    }
}

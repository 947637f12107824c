import Foundation
import Testing

/// Several `sagactl worker` processes on one database (SQLite and PostgreSQL) share 120 started instances: no step
/// is executed twice for the same attempt, every instance finishes, and no worker starves.
/// Instances are attributed to workers by the lease owner each one keeps after it ends
/// (`host/pid/nonce`, the last holder).
@Suite("Workers sharing one database", .serialized)
struct WorkerConcurrencyTests {
    static let services = "examples/services-exec.yaml"
    static let instances = 120
    let dir: URL
    /// The case's database: an SQLite file in `dir`, or a fresh PostgreSQL schema (see `TestDatabase`).
    var db: String { TestDatabase.location(in: dir) }
    var log: URL { dir.appendingPathComponent("calls.log") }

    init() throws { dir = try CLI.temporaryDirectory() }

    /// Starts the instances with one `sagactl start --inputs`; every fifth pays 999, which the
    /// shop declines (compensated).
    func startInstances() async throws -> [String: Bool] {
        var lines: [String] = []
        for n in 0..<Self.instances {
            let amount = n % 5 == 0 ? 999 : 10 + n
            lines.append(#"{"userId": \#(n), "productId": 1, "quantity": 1, "amount": \#(amount), "points": \#(n % 2)}"#)
        }
        let file = dir.appendingPathComponent("inputs.ndjson")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let started = try await CLI.run(["start", "workflows/order-payment.yaml", "--inputs", file.path, "--db", db,
                                         "--services", Self.services])
        try #require(started.status == 0, "\(started.stderr)")
        let ids = started.stdout.split(separator: "\n").map(String.init)
        try #require(ids.count == Self.instances, "\(started.stdout)")
        var declined: [String: Bool] = [:]
        for (n, id) in ids.enumerated() { declined[id] = n % 5 == 0 }
        return declined
    }

    @Test("Two and four workers: each (key, attempt) once, every instance ends, every worker runs some",
          arguments: TestDatabase.underTest, [2, 4])
    func workersShareTheInstances(database: TestDatabase, workers: Int) async throws {
        try await database.run(in: dir) {
            let declined = try await startInstances()
            #expect(declined.count == Self.instances)
            // Each call sleeps a little, so the run lasts long enough for every worker to start.
            let environment = ["SHOP_LOG": log.path, "SHOP_FAIL_IF": #"pay:"amount":999"#, "SHOP_SLEEP": "0.02"]
            var processes: [Background] = []
            for _ in 0..<workers {
                processes.append(try CLI.spawn(["worker", "--until-idle", "--concurrency", "3", "--db", db,
                                                "--services", Self.services], environment: environment))
            }
            let deadline = Date().addingTimeInterval(240)
            while processes.contains(where: \.isRunning), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            for process in processes where process.isRunning {
                Issue.record("worker \(process.processIdentifier) did not finish within the deadline")
                kill(process.processIdentifier, SIGKILL)
            }
            for process in processes {
                await CLI.waitForExit(process)
                #expect(process.terminationStatus == 0, "worker \(process.processIdentifier)")
            }

            // No step ran twice for one attempt: two workers never held one instance at once.
            var seen: [String: Int] = [:]
            for call in ShopCall.read(log) { seen["\(call.key)#\(call.attempt)", default: 0] += 1 }
            #expect(!seen.isEmpty)
            #expect(seen.filter { $0.value > 1 }.isEmpty, "\(seen.filter { $0.value > 1 })")

            let list = try await CLI.run(["list", "--db", db, "--json", "--limit", "1000"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(rows.count == Self.instances)
            var perWorker: [Int32: Int] = [:]
            for row in rows {
                let id = row["id"] as? String ?? ""
                let isDeclined = try #require(declined[id] as Bool?, "unknown instance \(id)")
                #expect(row["status"] as? String == (isDeclined ? "compensated" : "succeeded"), "instance \(id)")
                // host/pid/nonce: the pid says which worker held the instance last.
                let owner = (row["lease_owner"] as? String ?? "").split(separator: "/")
                if owner.count == 3, let pid = Int32(owner[1]) { perWorker[pid, default: 0] += 1 }
            }
            #expect(perWorker.values.reduce(0, +) == Self.instances, "instances without a lease owner: \(perWorker)")
            for process in processes {
                #expect((perWorker[process.processIdentifier] ?? 0) > 0,
                        "worker \(process.processIdentifier) ran no instance: \(perWorker)")
            }
        }
    }
}

import Foundation
import Testing

/// The commands `scripts/chaos.sh` is made of: `demo orders`, `start --inputs`, `demo serve`
/// with outages and a fault report, `demo check --require-settled`.
@Suite("Chaos run building blocks", .serialized)
struct ChaosCommandsTests {
    let dir: URL
    var db: String { dir.appendingPathComponent("sagas.sqlite").path }

    init() throws { dir = try CLI.temporaryDirectory() }

    func write(_ text: String, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("`demo orders` prints one checkout object a line, the same for the same seed")
    func orders() async throws {
        let first = try await CLI.run(["demo", "orders", "--count", "25", "--seed", "4"])
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.count == 25)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])
            #expect(Set(object.keys) == ["userId", "productId", "quantity", "amount", "points"])
        }
        #expect(try await CLI.run(["demo", "orders", "--count", "25", "--seed", "4"]).stdout == first.stdout)
        #expect(try await CLI.run(["demo", "orders", "--count", "25", "--seed", "5"]).stdout != first.stdout)
        let zero = try await CLI.run(["demo", "orders", "--count", "0"])
        #expect(zero.status == 64 && zero.stderr.contains("--count must be positive"), "\(zero.stderr)")
    }

    @Test("`start --inputs` creates one instance per line, in order, and prints their ids")
    func startInputs() async throws {
        var text = ""
        for n in 1...40 { text += #"{"productId": 1, "quantity": 1, "amount": \#(n), "userId": 7}"# + (n == 20 ? "\n\n" : "\n") }
        let file = try write(text, "orders.ndjson")
        let started = try await CLI.run(["start", "workflows/order-payment.yaml", "--inputs", file, "--db", db])
        #expect(started.status == 0, "\(started.stderr)")
        let ids = started.stdout.split(separator: "\n").map(String.init)
        #expect(ids.count == 40 && Set(ids).count == 40)
        for (n, id) in ids.enumerated() where n % 13 == 0 {
            let status = try await CLI.run(["status", id, "--json", "--db", db])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            #expect(json["status"] as? String == "running")
            #expect((json["input"] as? [String: Any])?["amount"] as? Int == n + 1, "line \(n + 1) → \(id)")
        }
        // Standard input works too.
        let piped = try await CLI.run(["start", "workflows/order-payment.yaml", "--inputs", "-", "--db", db],
                                      input: #"{"productId": 2}"# + "\n")
        #expect(piped.status == 0 && piped.stdout.split(separator: "\n").count == 1, "\(piped.stderr)")
    }

    @Test("`demo serve` takes services down on schedule and reports the faults it injected when stopped")
    func serveWithOutagesAndReport() async throws {
        let env = dir.appendingPathComponent("shop.env")
        let log = dir.appendingPathComponent("shop.log")
        let report = dir.appendingPathComponent("faults.json")
        let serve = try CLI.spawn(
            ["demo", "serve", "--directory", dir.appendingPathComponent("shop").path, "--faults", "inventory.reserve:kind=5xx",
             "--outage-every", "300ms", "--outage-length", "100ms", "--outage-services", "orders", "--report", report.path],
            stdout: env, stderr: log)
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        let exports = try await pollFor("the shop's five export lines", seconds: 60) { () -> [String: String]? in
            let lines = ((try? String(contentsOf: env, encoding: .utf8)) ?? "").split(separator: "\n")
            guard lines.count == 5 else { return nil }
            return Dictionary(uniqueKeysWithValues: lines.map { line in
                let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
        }
        #expect(exports.values.allSatisfy { $0.hasPrefix("http://127.0.0.1:") }, "\(exports)")
        // ReserveStock meets the 5xx four times (the call and its 3 retries), then the saga compensates.
        let run = try await CLI.run(["run", "workflows/order-payment.yaml", "--input", "@examples/order.json", "--db", db],
                                    environment: exports)
        #expect(run.status == 1, "\(run.stderr)")
        try await poll("an outage", seconds: 30) {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("outage: orders refuses connections for ")
        }
        kill(serve.processIdentifier, SIGTERM)
        await CLI.waitForExit(serve, timeout: 60)
        #expect(serve.terminationReason == .exit && serve.terminationStatus == 0)
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        #expect(counts["serverErrors"] as? Int == 4, "\(counts)")
        #expect((counts["requests"] as? Int ?? 0) >= 4, "\(counts)")
        #expect((counts["outages"] as? Int ?? 0) >= 1, "\(counts)")
        let said = try String(contentsOf: log, encoding: .utf8)
        #expect(said.contains("demo shop stopped: "), "\(said)")
    }

    @Test("`demo serve` refuses bad outage options precisely")
    func serveBadOptions() async throws {
        let shop = dir.appendingPathComponent("shop").path
        let every = try await CLI.run(["demo", "serve", "--directory", shop, "--outage-every", "5"])
        #expect(every.status == 64 && every.stderr.contains("--outage-every: '5' is not a positive duration"), "\(every.stderr)")
        let services = try await CLI.run(["demo", "serve", "--directory", shop, "--outage-every", "1s", "--outage-services", "payment"])
        #expect(services.status == 64 && services.stderr.contains("unknown service 'payment'"), "\(services.stderr)")
    }

    @Test("`demo check --require-settled` fails on sagas that have not run, and says which")
    func checkRequireSettled() async throws {
        let shop = dir.appendingPathComponent("shop")
        let file = try write(#"{"productId": 1, "quantity": 1, "amount": 5, "userId": 7}"# + "\n", "one.ndjson")
        let started = try await CLI.run(["start", "workflows/order-payment.yaml", "--inputs", file, "--db", db])
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // A shop that never served anything: its databases exist once it has started.
        let serve = try CLI.spawn(["demo", "serve", "--directory", shop.path], stdout: dir.appendingPathComponent("env"))
        try await poll("the shop to create its databases", seconds: 60) {
            ((try? String(contentsOf: dir.appendingPathComponent("env"), encoding: .utf8)) ?? "").split(separator: "\n").count == 5
        }
        kill(serve.processIdentifier, SIGTERM)
        await CLI.waitForExit(serve, timeout: 60)
        let lenient = try await CLI.run(["demo", "check", "--directory", shop.path, "--db", db])
        #expect(lenient.status == 0, "\(lenient.stdout)\(lenient.stderr)")
        let strict = try await CLI.run(["demo", "check", "--directory", shop.path, "--db", db, "--require-settled", "--json"])
        #expect(strict.status == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(strict.stdout.utf8)) as? [String: Any])
        #expect(json["passed"] as? Bool == false)
        #expect(json["not_settled"] as? [String] == ["\(id) is still running"], "\(json)")
        #expect(json["invariant_violations"] as? Int == 0)
        let sagas = try #require(json["sagas"] as? [String: Any])
        #expect(sagas["total"] as? Int == 1 && sagas["retries"] as? Int == 0)
    }
}

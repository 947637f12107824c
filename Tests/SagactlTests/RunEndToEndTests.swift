import Foundation
import Testing

/// `sagactl run` and the operator commands on a real SQLite file and a real PostgreSQL schema
/// (see `TestDatabase`), with exec actions that record every call (and its idempotency key) in a log.
@Suite("sagactl run, end to end")
struct RunEndToEndTests {
    let dir: URL
    /// The case's database: an SQLite file in `dir`, or a fresh PostgreSQL schema.
    var db: String { TestDatabase.location(in: dir) }
    var log: URL { dir.appendingPathComponent("calls.log") }

    init() throws { dir = try CLI.temporaryDirectory() }

    func run(_ workflow: String = "workflows/order-payment.yaml", input: String = "@examples/order.json",
             env: [String: String] = [:], extra: [String] = []) async throws -> CLI.Result {
        try await CLI.run(["run", workflow, "--services", "examples/services-exec.yaml", "--input", input, "--db", db] + extra,
                    environment: ["SHOP_LOG": log.path].merging(env) { _, b in b })
    }

    @Test("A clean checkout succeeds, calling each step once with its own key", arguments: TestDatabase.underTest)
    func successPath(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let result = try await run()
            #expect(result.status == 0, "\(result.stderr)")
            let calls = ShopCall.read(log)
            #expect(calls.map(\.state) == ["ReserveStock", "CreateOrder", "Pay", "DeductPoints", "ConfirmStock", "NotifyUser"])
            #expect(Set(calls.map(\.key)).count == calls.count)
            #expect(calls.allSatisfy { $0.phase == "forward" && $0.attempt == 1 })
            let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(calls.allSatisfy { $0.instance == id })
            #expect(result.stderr.contains("succeeded"))
            // The data flows: Pay received the order id produced by CreateOrder.
            let orderKey = calls[1].key.replacingOccurrences(of: ":", with: "-")
            #expect(calls[2].input.contains("\"orderId\":\"o-\(orderKey)\""))
            // The history names the process that made each call: this one `run`.
            let history = try await CLI.run(["history", id, "--db", db, "--json"])
            let steps = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
            let executors = Set(steps.compactMap { $0["executor"] as? String })
            #expect(!steps.isEmpty && steps.allSatisfy { $0["executor"] is String } && executors.count == 1, "\(executors)")
            #expect(executors.first?.split(separator: "/").count == 3)
            let table = try await CLI.run(["history", id, "--db", db])
            #expect(table.stdout.contains("EXECUTOR"))
        }
    }

    @Test("No points: the Choice skips DeductPoints", arguments: TestDatabase.underTest)
    func choiceSkipsPoints(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let result = try await run(input: #"{"userId": 1, "productId": 2, "quantity": 1, "amount": 5}"#)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!ShopCall.read(log).map(\.state).contains("DeductPoints"))
        }
    }

    @Test("A failure at each step compensates exactly the steps before it, in reverse order",
          arguments: TestDatabase.underTest, [("reserve", [String]()), ("create", ["ReleaseStock"]), ("pay", ["CancelOrder", "ReleaseStock"]),
                      ("deduct", ["Refund", "CancelOrder", "ReleaseStock"]),
                      ("confirm", ["ReturnPoints", "Refund", "CancelOrder", "ReleaseStock"])])
    func failureAtEachStep(database: TestDatabase, failure: (String, [String])) async throws {
        let (method, compensations) = failure
        try await database.run(in: dir) {
            let result = try await run(env: ["SHOP_FAIL": method, "SHOP_ERROR": "ActionError.Refused"])
            // A step that fails with a business error is FA only when it is not an update; all
            // forward steps here have a CompensateState, so the failed step is UN and is compensated
            // too, except the first whose failure leaves nothing else.
            let calls = ShopCall.read(log)
            let undo = calls.filter { $0.phase == "compensation" }.map(\.state)
            let failedState = calls.last { $0.phase == "forward" }!.state
            let expectedOwn = ["reserve": "ReleaseStock", "create": "CancelOrder", "pay": "Refund", "deduct": "ReturnPoints"][method]
            var expected = compensations
            if let own = expectedOwn { expected.insert(own, at: 0) }
            #expect(undo == expected, "failed at \(failedState); stderr: \(result.stderr)")
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("compensated"))
            // Compensations have keys of their own.
            #expect(Set(calls.map(\.key)).count == calls.count)
        }
    }

    @Test("A flaky service is retried with the same idempotency key", arguments: TestDatabase.underTest)
    func retriesKeepTheKey(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let result = try await run(env: ["SHOP_FLAKY": "reserve pay"])
            #expect(result.status == 0, "\(result.stderr)")
            let calls = ShopCall.read(log)
            let reserve = calls.filter { $0.state == "ReserveStock" }
            #expect(reserve.map(\.attempt) == [1, 2])
            #expect(Set(reserve.map(\.key)).count == 1)
            #expect(calls.filter { $0.state == "Pay" }.count == 2)
            let history = try await CLI.run(["history", result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--db", db])
            #expect(history.stdout.contains("HTTP.5xx"))
        }
    }

    @Test("Catch routes a declined payment to the compensation trigger and the Fail state", arguments: TestDatabase.underTest)
    func catchRouting(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let result = try await run(env: ["SHOP_FAIL": "pay"], extra: ["--json"])
            #expect(result.status == 1)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["status"] as? String == "compensated")
            let context = json["context"] as? [String: Any]
            #expect(context?["_statemachine_error_code_"] as? String == "ORDER_FAILED")
            let steps = json["steps"] as? [[String: Any]] ?? []
            let pay = steps.first { $0["state"] as? String == "Pay" }
            #expect((pay?["error"] as? [String: Any])?["name"] as? String == "ActionError.InsufficientFunds")
        }
    }

    @Test("A business key that exists returns the existing instance instead of running twice", arguments: TestDatabase.underTest)
    func businessKeyDeduplicates(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let first = try await run(extra: ["--business-key", "order-42"])
            let second = try await run(extra: ["--business-key", "order-42"])
            #expect(first.status == 0)
            #expect(second.status == 0)
            #expect(first.stdout == second.stdout)
            #expect(second.stderr.contains("already used"))
            #expect(ShopCall.read(log).filter { $0.state == "ReserveStock" }.count == 1)
        }
    }

    @Test("A SubStateMachine runs its child, and compensates it when a later step fails", arguments: TestDatabase.underTest)
    func subMachine(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let ok = try await run("workflows/order-with-shipping.yaml", input: #"{"orderId": 1, "amount": 3, "address": "x"}"#)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ShopCall.read(log).map(\.state) == ["Charge", "BookCarrier", "PrintLabel", "Invoice"])

            try FileManager.default.removeItem(at: log)
            let failed = try await run("workflows/order-with-shipping.yaml", input: #"{"orderId": 2, "amount": 3, "address": "x"}"#,
                                 env: ["SHOP_FAIL": "invoice"])
            #expect(failed.status == 1, "\(failed.stderr)")
            #expect(ShopCall.read(log).map(\.state) == ["Charge", "BookCarrier", "PrintLabel", "Invoice", "VoidLabel", "CancelCarrier", "Refund"])
            let list = try await CLI.run(["list", "--all", "--db", db, "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(rows.filter { $0["parent_id"] is String }.count == 2)
        }
    }

    @Test("An unknown outcome is pushed forward by recover when RecoverStrategy is Forward", arguments: TestDatabase.underTest)
    func forwardRecovery(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let failed = try await run("workflows/funds-transfer.yaml",
                                 input: #"{"from": "A", "to": "B", "amount": 10, "reference": "t1"}"#,
                                 env: ["SHOP_FAIL": "credit", "SHOP_ERROR": "ActionError.Unavailable"])
            #expect(failed.status == 2, "\(failed.stderr)")
            #expect(failed.stderr.contains("unknown"))
            let creditKey = ShopCall.read(log).last { $0.state == "CreditTarget" }!.key
            let recovered = try await CLI.run(["recover", "--db", db, "--services", "examples/services-exec.yaml"],
                                        environment: ["SHOP_LOG": log.path])
            #expect(recovered.status == 0, "\(recovered.stderr)")
            let credits = ShopCall.read(log).filter { $0.state == "CreditTarget" }
            #expect(credits.count == 2)
            #expect(Set(credits.map(\.key)) == [creditKey])
            #expect(!ShopCall.read(log).contains { $0.phase == "compensation" })
            let status = try await CLI.run(["status", failed.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--db", db])
            #expect(status.status == 0)
            #expect(status.stdout.contains("succeeded"))
        }
    }

    @Test("A compensation that keeps failing stops in needs-intervention; compensate and skip resolve it", arguments: TestDatabase.underTest)
    func needsIntervention(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let workflow = dir.appendingPathComponent("fragile.yaml")
            try """
                Name: fragile
                StartState: Reserve
                States:
                  Reserve: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: reserve, CompensateState: Release, Next: Pay }
                  Pay: { Type: ServiceTask, ServiceName: payments, ServiceMethod: pay, CompensateState: Refund, Next: Done,
                         Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
                  Done: { Type: Succeed }
                  Rollback: { Type: CompensationTrigger, Next: Failed }
                  Failed: { Type: Fail }
                  Refund: { Type: ServiceTask, ServiceName: payments, ServiceMethod: refund }
                  Release:
                    Type: ServiceTask
                    ServiceName: inventory
                    ServiceMethod: release
                    Retry: [{ Exceptions: [Throwable], IntervalSeconds: 0.05, MaxAttempts: 2 }]
                """.write(to: workflow, atomically: true, encoding: .utf8)
            let result = try await run(workflow.path, input: "{}", env: ["SHOP_FAIL": "pay release", "SHOP_ERROR": "ActionError.Down"])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("needs-intervention"))
            #expect(ShopCall.read(log).filter { $0.state == "Release" }.count == 3)
            let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

            // The service is fixed: compensate finishes the job without repeating Refund.
            let fixed = try await CLI.run(["compensate", id, "--db", db, "--services", "examples/services-exec.yaml"],
                                    environment: ["SHOP_LOG": log.path])
            #expect(fixed.status == 1, "\(fixed.stderr)")
            #expect(fixed.stderr.contains("compensated"))
            // Pay ended UN, so it was refunded, once: the second compensate skips it.
            #expect(ShopCall.read(log).filter { $0.state == "Refund" }.count == 1)
            #expect(ShopCall.read(log).filter { $0.state == "Release" }.count == 4)
        }
    }

    @Test("skip records a manual resolution and finishes the compensation", arguments: TestDatabase.underTest)
    func skip(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let workflow = dir.appendingPathComponent("fragile.yaml")
            try """
                Name: fragile2
                StartState: Reserve
                States:
                  Reserve: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: reserve, CompensateState: Release, Next: Pay }
                  Pay: { Type: ServiceTask, ServiceName: payments, ServiceMethod: pay, Next: Done,
                         Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
                  Done: { Type: Succeed }
                  Rollback: { Type: CompensationTrigger }
                  Release: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: release }
                """.write(to: workflow, atomically: true, encoding: .utf8)
            let result = try await run(workflow.path, input: "{}", env: ["SHOP_FAIL": "pay release"])
            #expect(result.status == 2)
            let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let skipped = try await CLI.run(["skip", id, "--state", "Release", "--db", db, "--services", "examples/services-exec.yaml"],
                                      environment: ["SHOP_LOG": log.path, "SHOP_FAIL": "pay release"])
            #expect(skipped.status == 1, "\(skipped.stderr)")
            let history = try await CLI.run(["history", id, "--db", db])
            #expect(history.stdout.contains("SK"))
            #expect(history.stdout.contains("resolved by hand"))
            let bad = try await CLI.run(["skip", id, "--state", "Relase", "--db", db])
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("did you mean"))
        }
    }

    @Test("The outbox delivers NotifyUser after the saga, marks it failed after 3 attempts, and retry sends it", arguments: TestDatabase.underTest)
    func outbox(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let result = try await run(env: ["SHOP_FAIL": "send"])
            #expect(result.status == 0, "\(result.stderr)")  // the saga does not wait for its notification
            #expect(result.stderr.contains("failed    after 3 attempts"))
            let failed = try await CLI.run(["outbox", "list", "--status", "failed", "--db", db, "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [[String: Any]])
            let id = try #require(rows.first?["id"] as? String)
            #expect(rows.first?["state"] as? String == "NotifyUser")
            #expect(rows.first?["attempts"] as? Int == 3)

            let retried = try await CLI.run(["outbox", "retry", id, "--db", db, "--services", "examples/services-exec.yaml"],
                                      environment: ["SHOP_LOG": log.path])
            #expect(retried.status == 0, "\(retried.stderr)")
            #expect(retried.stderr.contains("delivered"))
            let sends = ShopCall.read(log).filter { $0.method == "send" }
            #expect(sends.count == 4)
            #expect(Set(sends.map(\.key)) == [id])
            let delivered = try await CLI.run(["outbox", "list", "--status", "delivered", "--db", db])
            #expect(delivered.stdout.contains(id))
        }
    }

    @Test("Bad input to run gives a clear error and the right exit status", arguments: TestDatabase.underTest)
    func badInput(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let notJSON = try await run(input: "{oops")
            #expect(notJSON.status == 64)
            #expect(notJSON.stderr.contains("--input:1:2"))
            let list = try await run(input: "[1]")
            #expect(list.status == 64)
            #expect(list.stderr.contains("JSON object"))
            let missing = try await CLI.run(["run", "workflows/nope.yaml", "--db", db])
            #expect(missing.status == 65)
            let usage = try await CLI.run(["run"])
            #expect(usage.status == 64)
            let garbage = dir.appendingPathComponent("garbage.sqlite")
            try Data("this is not a database".utf8).write(to: garbage)
            let badDB = try await CLI.run(["list", "--db", garbage.path])
            #expect(badDB.status == 74, "\(badDB.stderr)")
            #expect(!badDB.stderr.contains("GRDB"))
        }
    }
}

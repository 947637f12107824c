import Foundation
import Testing
import Interpreter
import SQLiteStore
import StateLang

/// The embedding examples of the README, compiled and run. The README shows exactly the lines
/// between the markers below (a test checks it), so the two cannot drift apart.
@Suite("README library example")
struct LibraryExampleTests {
    @Test("The example in the README compiles and runs")
    func readmeExample() async throws {
        let dir = try CLI.temporaryDirectory()
        let databasePath = dir.appendingPathComponent("sagas.sqlite").path
        // --- README example ---
        let engine = SagaEngine(store: try SQLiteInstanceStore(path: databasePath))
        // Answer every service of the workflow in-process instead of over HTTP.
        let services = ["inventory", "orders", "payments", "points", "notifications"]
        for service in services {
            engine.localActions.register(service: service) { call in ["id": .string(call.idempotencyKey)] }
        }
        engine.setServiceBindings(services.reduce(into: [:]) { $0[$1] = ServiceBinding(name: $1, kind: .local) })
        let workflow = try engine.register(path: "workflows/order-payment.yaml")
        let instance = try await engine.run(workflow, input: ["productId": 1, "quantity": 2, "amount": 30])
        print(instance.status)  // succeeded
        // --- end ---
        #expect(instance.status == .succeeded)
        let steps = try await engine.store.steps(of: instance.id)
        #expect(steps.map(\.stateName) == ["ReserveStock", "CreateOrder", "Pay", "ConfirmStock", "NotifyUser"])

        try expectInReadme(between: "// --- README example ---", and: "// --- end ---")
    }

    @Test("The README's deferred action: start returns while Pay waits, and the answer finishes the saga")
    func readmeDeferredExample() async throws {
        let dir = try CLI.temporaryDirectory()
        let engine = SagaEngine(store: try SQLiteInstanceStore(path: dir.appendingPathComponent("sagas.sqlite").path))
        let services = ["inventory", "orders", "payments", "points", "notifications"]
        for service in services {
            engine.localActions.register(service: service) { call in ["id": .string(call.idempotencyKey)] }
        }
        engine.setServiceBindings(services.reduce(into: [:]) { $0[$1] = ServiceBinding(name: $1, kind: .local) })
        let workflow = try engine.register(path: "workflows/order-payment.yaml")
        let ended = Ended()
        // --- README deferred example ---
        // Payments answer later, through a callback: meanwhile the instance holds no task.
        engine.localActions.registerDeferred(service: "payments", method: "pay") { call, completion in
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {  // say, the provider's webhook
                completion.succeed(["paymentId": .string(call.idempotencyKey)])
            }
        }
        let id = try await engine.start(workflow, input: ["productId": 1, "quantity": 2, "amount": 30]) { end in
            ended.record(end)  // once: the instance's record when it ends, or the error that stopped it
        }
        // --- end deferred ---
        // start returned with the instance parked on Pay (its intent is checkpointed).
        let parked = try await engine.store.steps(of: id).map(\.stateName)
        #expect(parked.last == "Pay", "\(parked)")
        let record = try await ended.wait()
        #expect(record.status == .succeeded)
        #expect(record.context["paymentId"] != nil)
        let steps = try await engine.store.steps(of: id)
        #expect(steps.map(\.stateName) == ["ReserveStock", "CreateOrder", "Pay", "ConfirmStock", "NotifyUser"])
        try expectInReadme(between: "// --- README deferred example ---", and: "// --- end deferred ---")
    }

    /// What `onFinish` reported; `wait` polls for it (two minutes at most: only a hang gets there).
    final class Ended: @unchecked Sendable {
        private let lock = NSLock()
        private var end: Result<InstanceRecord, any Error>?
        private var count = 0
        func record(_ end: Result<InstanceRecord, any Error>) { lock.lock(); self.end = end; count += 1; lock.unlock() }
        func wait() async throws -> InstanceRecord {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let (end, count) = { lock.lock(); defer { lock.unlock() }; return (self.end, self.count) }()
                if let end {
                    #expect(count == 1)
                    return try end.get()
                }
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            throw Spawned.Failure(description: "the instance did not end within two minutes")
        }
    }

    /// Checks that README.md contains exactly the lines of this file between two markers.
    func expectInReadme(between startMarker: String, and endMarker: String) throws {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.contains(startMarker) })
        let end = try #require(lines.firstIndex { $0.contains(endMarker) })
        let example = lines[(start + 1)..<end].map { String($0.dropFirst(8)) }.joined(separator: "\n")
        let readme = try String(contentsOf: CLI.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(example), "README.md must contain the example exactly:\n\(example)")
    }
}

import Foundation
import Testing
import Interpreter
import SQLiteStore
import StateLang

/// The embedding example of the README, compiled and run. The README shows exactly the lines
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

        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.contains("// --- README example ---") })
        let end = try #require(lines.firstIndex { $0.contains("// --- end ---") })
        let example = lines[(start + 1)..<end].map { String($0.dropFirst(8)) }.joined(separator: "\n")
        let readme = try String(contentsOf: CLI.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(example), "README.md must contain the example exactly:\n\(example)")
    }
}

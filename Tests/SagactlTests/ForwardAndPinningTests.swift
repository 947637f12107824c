import Foundation
import Testing

/// `sagactl forward ID` (reference §6.2, decision 0008) and definition pinning (DESIGN §5: an
/// instance runs the definition it started with, whatever happens to the file), on the built
/// binary with exec actions that log every call and its idempotency key.
@Suite("sagactl forward and definition pinning, end to end")
struct ForwardAndPinningTests {
    let dir: URL
    var db: String { TestDatabase.location(in: dir) }
    var log: URL { dir.appendingPathComponent("calls.log") }
    static let services = "examples/services-exec.yaml"

    init() throws { dir = try CLI.temporaryDirectory() }

    func sagactl(_ args: [String], env: [String: String] = [:]) async throws -> CLI.Result {
        try await CLI.run(args + ["--db", db, "--services", Self.services],
                          environment: ["SHOP_LOG": log.path].merging(env) { _, b in b })
    }

    func write(_ text: String, to name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("forward calls the failed step again with its key and finishes; a second forward is refused with 64",
          arguments: TestDatabase.underTest)
    func forwardAFailedInstance(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let workflow = try write("""
                Name: quote-and-reserve
                StartState: Lookup
                States:
                  Lookup: { Type: ServiceTask, ServiceName: risk, ServiceMethod: lookup, Next: Price }
                  Price: { Type: ServiceTask, ServiceName: risk, ServiceMethod: price, Next: Reserve }
                  Reserve: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: reserve, CompensateState: Release, Next: Done }
                  Done: { Type: Succeed }
                  Release: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: release }
                """, to: "quote.yaml")
            // Price is read-only and fails: nothing changed data, so the instance is `failed`.
            let failed = try await sagactl(["run", workflow, "--input", "{}"],
                                           env: ["SHOP_FAIL": "price", "SHOP_ERROR": "ActionError.Unavailable"])
            #expect(failed.status == 1, "\(failed.stderr)")
            #expect(failed.stderr.contains("failed"), "\(failed.stderr)")
            let id = failed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let firstRun = ShopCall.read(log)
            #expect(firstRun.map(\.state) == ["Lookup", "Price"])
            let priceKey = try #require(firstRun.last?.key)

            // The service is back: forward makes Price again under its key, then goes on.
            let forward = try await sagactl(["forward", id])
            #expect(forward.status == 0, "\(forward.stderr)")
            #expect(forward.stderr.contains("succeeded"), "\(forward.stderr)")
            let calls = ShopCall.read(log)
            #expect(calls.map(\.state) == ["Lookup", "Price", "Price", "Reserve"])
            #expect(calls[2].key == priceKey)
            #expect(calls[2].attempt == 2)
            #expect(calls.allSatisfy { $0.phase == "forward" && $0.instance == id })
            let status = try await CLI.run(["status", id, "--db", db, "--json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            #expect(json["status"] as? String == "succeeded")

            // Nothing left to push forward: a usage error that says why, and no call.
            let again = try await sagactl(["forward", id])
            #expect(again.status == 64, "\(again.stderr)")
            #expect(again.stderr.contains("has status succeeded"), "\(again.stderr)")
            #expect(again.stderr.contains("only failed or unknown instances can be pushed forward"), "\(again.stderr)")
            #expect(ShopCall.read(log).count == calls.count)
        }
    }

    static let version1 = """
        Name: pinned
        StartState: First
        States:
          First: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: reserve, CompensateState: Undo, Next: Second }
          Second: { Type: ServiceTask, ServiceName: orders, ServiceMethod: create, Next: Done }
          Done: { Type: Succeed }
          Undo: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: release }
        """

    /// The same workflow edited: Second calls another method and a step is added before it.
    static let version2 = """
        Name: pinned
        StartState: First
        States:
          First: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: reserve, CompensateState: Undo, Next: Extra }
          Extra: { Type: ServiceTask, ServiceName: points, ServiceMethod: deduct, Next: Second }
          Second: { Type: ServiceTask, ServiceName: orders, ServiceMethod: confirm, Next: Done }
          Done: { Type: Succeed }
          Undo: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: release }
        """

    /// The methods called for instance `id`, in order.
    func methods(of id: String) -> [String] {
        ShopCall.read(log).filter { $0.instance == id }.map(\.method)
    }

    @Test("An instance runs the definition it started with after its file is edited (worker and recover)",
          arguments: TestDatabase.underTest)
    func definitionIsPinned(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let path = try write(Self.version1, to: "pinned.yaml")
            let old = try await sagactl(["start", path, "--input", "{}"])
            #expect(old.status == 0, "\(old.stderr)")
            let oldID = old.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(ShopCall.read(log).isEmpty)

            // Edited before any worker ran it; an instance started now runs the new text.
            _ = try write(Self.version2, to: "pinned.yaml")
            let new = try await sagactl(["start", path, "--input", "{}"])
            #expect(new.status == 0, "\(new.stderr)")
            let newID = new.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

            let worker = try await sagactl(["worker", "--until-idle"])
            #expect(worker.status == 0, "\(worker.stderr)")
            #expect(methods(of: oldID) == ["reserve", "create"])
            #expect(methods(of: newID) == ["reserve", "deduct", "confirm"])
            for id in [oldID, newID] {
                let status = try await CLI.run(["status", id, "--db", db])
                #expect(status.status == 0, "\(id): \(status.stdout) \(status.stderr)")
            }

            // The same through `recover`: started on version 2, the file is edited back to version 1.
            let third = try await sagactl(["start", path, "--input", "{}"])
            let thirdID = third.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try write(Self.version1, to: "pinned.yaml")
            let recovered = try await sagactl(["recover"])
            #expect(recovered.status == 0, "\(recovered.stderr)")
            #expect(methods(of: thirdID) == ["reserve", "deduct", "confirm"])
            let status = try await CLI.run(["status", thirdID, "--db", db])
            #expect(status.status == 0, "\(status.stdout) \(status.stderr)")
        }
    }
}

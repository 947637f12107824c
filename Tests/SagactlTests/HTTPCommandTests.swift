import Foundation
import Interpreter
import Testing
@testable import SagaCLI

/// The http action as the command line wires it: registered for `Type: http`, and its client
/// closed when the command ends.
@Suite("sagactl with http services")
struct HTTPCommandTests {
    static let workflow = """
        Name: http-cli
        StartState: Ping
        Services:
          svc: { Type: http, URL: "${SVC_URL:-http://127.0.0.1:1}", TimeoutSeconds: 5 }
        States:
          Ping:
            Type: ServiceTask
            ServiceName: svc
            ServiceMethod: ping
            Next: Done
          Done: { Type: Succeed }
        """

    @Test("`sagactl run` calls an http service (here: refused) and exits cleanly", arguments: TestDatabase.underTest)
    func runCallsHTTP(database: TestDatabase) async throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir.appendingPathComponent("http-cli.yaml")
        try Self.workflow.write(to: file, atomically: true, encoding: .utf8)
        try await database.run(in: dir) {
            let result = try await CLI.run(["run", file.path, "--db", TestDatabase.location(in: dir)],
                                           environment: ["SVC_URL": "http://127.0.0.1:1"])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("ConnectionRefused: nothing accepts connections at http://127.0.0.1:1/ping"), "\(result.stderr)")
            #expect(!result.stderr.contains("warning"), "\(result.stderr)")
        }
    }

    @Test("A circuit that opens is logged by the executor and shown by `sagactl status` in another process",
          arguments: TestDatabase.underTest)
    func circuitShownByStatus(database: TestDatabase) async throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir.appendingPathComponent("http-circuit.yaml")
        let workflow = Self.workflow
            .replacingOccurrences(of: "Name: http-cli", with: "Name: http-circuit")
            .replacingOccurrences(of: "TimeoutSeconds: 5 }",
                                  with: "TimeoutSeconds: 5, CircuitBreaker: { FailureThreshold: 1, OpenSeconds: 600 } }")
        try workflow.write(to: file, atomically: true, encoding: .utf8)
        try await database.run(in: dir) {
            let db = TestDatabase.location(in: dir)
            let run = try await CLI.run(["run", file.path, "--db", db, "--json"], environment: ["SVC_URL": "http://127.0.0.1:1"])
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.contains("circuit of service 'svc': closed → open until"), "\(run.stderr)")
            let instance = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let id = try #require(instance["id"] as? String)

            let status = try await CLI.run(["status", id, "--db", db])
            #expect(status.stdout.contains("circuits      svc: open until "), "\(status.stdout)")
            let json = try await CLI.run(["status", id, "--db", db, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let circuits = try #require(object["circuits"] as? [[String: Any]])
            #expect(circuits.count == 1)
            #expect(circuits.first?["service"] as? String == "svc")
            #expect(circuits.first?["phase"] as? String == "open")
            #expect(circuits.first?["open_until"] is String)
        }
    }

    @Test("Closers run once, newest first, and their errors are returned")
    func closers() async {
        let resources = CommandResources()
        let order = Locked([String]())
        struct Failed: Error {}
        resources.onClose { order.set(order.get() + ["first"]) }
        resources.onClose {
            order.set(order.get() + ["second"])
            throw Failed()
        }
        let errors = await resources.close()
        #expect(order.get() == ["second", "first"])
        #expect(errors.count == 1 && errors.first is Failed)
        #expect(await resources.close().isEmpty)
        #expect(order.get() == ["second", "first"])
    }

    @Test("EngineSetup registers the http client's shutdown and the circuit log's last writes in the command's scope, and only there")
    func engineSetupRegisters() async throws {
        let store = InMemoryInstanceStore()
        let scoped = CommandResources()
        let other = CommandResources()
        CommandResources.$current.withValue(scoped) {
            _ = EngineSetup.make(store: store, services: [:])
        }
        #expect(scoped.pendingCount == 2)
        #expect(other.pendingCount == 0)
        #expect(await scoped.close().isEmpty)
        #expect(scoped.pendingCount == 0)
    }
}

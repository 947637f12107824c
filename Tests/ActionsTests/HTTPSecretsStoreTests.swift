import Foundation
import Interpreter
import SQLiteStore
import StateLang
import Testing
@testable import Actions

/// A secret given through the environment (a header's `${VAR}`) is sent to the service but
/// written nowhere: not in the history, the context, the engine's events, or the database file,
/// even when the service quotes it in an error and echoes it in a successful reply.
@Suite("HTTP action: secrets stay out of the store and the logs")
struct HTTPSecretsStoreTests {
    static let token = "tok-5f0c2d9e81a7"
    static let yaml = """
        Name: http-secrets
        StartState: Pay
        Services:
          payments:
            Type: http
            URL: "${SHOP_URL:-http://127.0.0.1:1}/payments"
            Headers: { Authorization: "Bearer ${SHOP_TOKEN}" }
        States:
          Pay:
            Type: ServiceTask
            ServiceName: payments
            ServiceMethod: charge
            Input: [{ amount: "$.[amount]" }]
            Output: { receipt: "$.[receipt]", echoed: "$.[echo]", headers: "$.[headers]" }
            Retry: [{ Exceptions: [HTTP.5xx], IntervalSeconds: 2, MaxAttempts: 2 }]
            Next: Done
          Done: { Type: Succeed }
        """

    @Test("An error quoting the token and a reply echoing it are stored redacted")
    func secretsNeverReachTheStore() async throws {
        let calls = Locked(0)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sagactl-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sagas.sqlite").path

        try await TestHTTPServer.with({ request in
            let authorization = request.header("Authorization") ?? ""
            let n = calls.withLock { n in n += 1; return n }
            if n == 1 { return .respond(status: 503, body: "rejected credentials \(authorization), try later") }
            return .json(200, """
                {"receipt": "r-1", "echo": "\(authorization)", "headers": {"\(authorization)": [\"\(authorization)\"]}}
                """)
        }) { server in
            let clock = ManualClock()
            let configuration = HTTPTest.configuration(environment: ["SHOP_URL": server.baseURL, "SHOP_TOKEN": Self.token])
            try await HTTPTest.withAction(configuration) { http in
                let store = try SQLiteInstanceStore(path: path)
                let engine = SagaEngine(store: store, clock: clock, owner: LeaseOwner(host: "test", pid: 1, nonce: "secrets"))
                engine.setHandler(http, for: .http)
                let events = Locked([String]())
                engine.observe { event in events.withLock { $0.append(String(describing: event)) } }
                let compiled = WorkflowPipeline.compile(text: Self.yaml, path: "http-secrets.yaml")
                let workflow = try #require(compiled.workflow, "\(compiled.diagnostics)")
                engine.register(workflow, source: Self.yaml)

                let run = Task { try await engine.run(workflow, input: ["amount": 20], instanceID: "secrets-1") }
                try await eventually("the retry is scheduled") { try await store.instance(id: "secrets-1")?.wakeAt != nil }
                clock.advance(by: 2)
                let record = try await run.value

                #expect(record.status == .succeeded)
                #expect(server.requests.map { $0.header("Authorization") } == ["Bearer \(Self.token)", "Bearer \(Self.token)"])
                #expect(record.context["receipt"] == "r-1")
                #expect(record.context["echoed"] == "Bearer [redacted]")
                let steps = try await store.steps(of: "secrets-1")
                #expect(steps.first?.failure?.message.contains("Bearer [redacted]") == true)
                let written = [String(describing: record), String(describing: steps)] + events.withLock { $0 }
                for text in written {
                    #expect(!text.contains(Self.token), "the secret leaked into: \(text)")
                }
                try store.close()
            }
        }
        // Nothing in the database's files either (the main file and its write-ahead log).
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.contains("sagas.sqlite"))
        for file in files {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            #expect(bytes.range(of: Data(Self.token.utf8)) == nil, "the secret is in \(file)")
        }
    }
}

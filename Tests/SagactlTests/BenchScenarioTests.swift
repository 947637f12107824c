import Foundation
import Testing

/// The `sagactl bench` scenarios behind the performance targets, end to end on the built
/// binary, at a size that runs in seconds.
@Suite("bench scenarios, end to end", .serialized)
struct BenchScenarioTests {
    let dir: URL

    init() throws { dir = try CLI.temporaryDirectory() }

    @Test("--generate-workflow prints a workflow that validates with no diagnostic")
    func generatedWorkflowValidates() async throws {
        let generated = try await CLI.run(["bench", "--generate-workflow", "60"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let path = dir.appendingPathComponent("big.yaml")
        try generated.stdout.write(to: path, atomically: true, encoding: .utf8)
        let validated = try await CLI.run(["validate", path.path])
        #expect(validated.status == 0)
        // The summary line goes to standard error, with the diagnostics (none here).
        #expect(validated.stderr == "0 errors and 0 warnings in 1 file\n", "\(validated.stderr)")
    }

    @Test("--abandon leaves instances mid-saga that recover finishes")
    func abandonedInstancesRecover() async throws {
        let db = dir.appendingPathComponent("abandoned.sqlite").path
        let abandoned = try await CLI.run(["bench", "--abandon", "40", "--keep-db", db, "--json"])
        #expect(abandoned.status == 0, "\(abandoned.stderr)")
        #expect(abandoned.stdout.contains(#""running": 40"#), "\(abandoned.stdout)")
        let recovered = try await CLI.run(["recover", "--db", db])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(recovered.stdout.contains("recovered 40 abandoned instances"), "\(recovered.stdout)")
        #expect(recovered.stdout.contains("succeeded: 40"), "\(recovered.stdout)")
    }

    @Test("--inflight reports the memory per waiting instance and lets every saga finish")
    func inflightReportsBytesPerInstance() async throws {
        let result = try await CLI.run(["bench", "--inflight", "100", "--json", "--directory", dir.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""bytes_per_inflight_instance""#), "\(result.stdout)")
        #expect(result.stdout.contains(#""finished": 100"#), "\(result.stdout)")
        #expect(result.stdout.contains(#""waiting": "deferred""#), "\(result.stdout)")
    }

    @Test("--inflight --awaited holds each saga in a task of its own and lets every saga finish")
    func inflightAwaited() async throws {
        let result = try await CLI.run(["bench", "--inflight", "100", "--awaited", "--json", "--directory", dir.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""waiting": "awaited""#), "\(result.stdout)")
        #expect(result.stdout.contains(#""finished": 100"#), "\(result.stdout)")
    }
}

import Foundation
import Interpreter
import Testing

/// `sagactl start --inputs FILE`: one instance per line of newline-delimited JSON, checked
/// whole before anything is created, on SQLite and PostgreSQL.
@Suite("sagactl start --inputs")
struct StartInputsTests {
    static let workflow = "workflows/order-payment.yaml"
    static let services = "examples/services-exec.yaml"
    let dir: URL
    var db: String { TestDatabase.location(in: dir) }

    init() throws { dir = try CLI.temporaryDirectory() }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func start(_ extra: [String], stdin: String? = nil) async throws -> CLI.Result {
        try await CLI.run(["start", Self.workflow, "--services", Self.services, "--db", db] + extra, input: stdin)
    }

    func instances() async throws -> [InstanceRecord] {
        let store = try #require(TestDatabase.currentStore)
        return try await store.listInstances(InstanceQuery(limit: 1_000))
    }

    @Test("One instance per line, ids in line order; the same file again starts nothing new",
          arguments: TestDatabase.underTest)
    func startsOnePerLine(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let file = try write("orders.ndjson", (1...25).map { #"{"ref": "o-\#($0)", "amount": \#($0)}"# }
                .joined(separator: "\n") + "\n\n")
            let first = try await start(["--inputs", file, "--business-key-field", "ref"])
            #expect(first.status == 0, "\(first.stderr)")
            let ids = first.stdout.split(separator: "\n").map(String.init)
            #expect(ids.count == 25 && Set(ids).count == 25)
            let stored = try await instances()
            #expect(stored.count == 25)
            for (n, id) in ids.enumerated() {
                let record = try #require(stored.first { $0.id == id })
                #expect(record.businessKey == "o-\(n + 1)")
                #expect(record.input["amount"] == .int(n + 1))
                #expect(record.status == .running && record.leaseOwner == nil)
            }

            let again = try await start(["--inputs", file, "--business-key-field", "ref", "--json"])
            #expect(again.status == 0, "\(again.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [[String: Any]])
            #expect(rows.map { $0["id"] as? String } == ids)
            #expect(rows.map { $0["line"] as? Int } == Array(1...25))
            #expect(rows.allSatisfy { $0["created"] as? Bool == false })
            #expect(try await instances().count == 25)

            // Standard input works too, and the instances run.
            let piped = try await start(["--inputs", "-"], stdin: #"{"userId": 1, "productId": 1, "quantity": 1, "amount": 5}"# + "\n")
            #expect(piped.status == 0, "\(piped.stderr)")
            #expect(try await instances().count == 26)
        }
    }

    @Test("A file with bad lines starts nothing and names every bad line", arguments: TestDatabase.underTest)
    func badLinesStartNothing(database: TestDatabase) async throws {
        try await database.run(in: dir) {
            let file = try write("bad.ndjson", """
                {"ref": "a", "amount": 1}
                {"ref": "b", "amount": 
                [1, 2]
                {"amount": 3}
                {"ref": "a", "amount": 4}
                {"ref": {"x": 1}}
                """)
            let result = try await start(["--inputs", file, "--business-key-field", "ref"])
            #expect(result.status == 64, "\(result.stderr)")
            for fragment in ["5 bad lines", "no instance was started", "bad.ndjson:2:", "not valid JSON",
                             "bad.ndjson:3: the input must be a JSON object", "bad.ndjson:4: no field 'ref'",
                             "bad.ndjson:5: business key 'a' is also on line 1", "bad.ndjson:6: the business key field 'ref'"] {
                #expect(result.stderr.contains(fragment), "\(fragment) in \(result.stderr)")
            }
            #expect(result.stdout.isEmpty)
            #expect(try await instances().isEmpty)

            let empty = try await start(["--inputs", try write("empty.ndjson", "\n\n")])
            #expect(empty.status == 64)
            #expect(empty.stderr.contains("has no inputs"))
            #expect(try await instances().isEmpty)
        }
    }

    @Test("--inputs does not combine with --input or --business-key; --business-key-field needs it")
    func conflictingOptions() async throws {
        let file = try write("one.ndjson", "{}\n")
        for extra in [["--inputs", file, "--input", "{}"], ["--inputs", file, "--business-key", "k"],
                      ["--business-key-field", "ref"]] {
            let result = try await CLI.run(["start", Self.workflow, "--services", Self.services, "--db", dir.appendingPathComponent("x.sqlite").path] + extra)
            #expect(result.status == 64, "\(extra): \(result.stderr)")
        }
        let missing = try await CLI.run(["start", Self.workflow, "--inputs", dir.appendingPathComponent("nope").path,
                                         "--db", dir.appendingPathComponent("x.sqlite").path])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("cannot read the inputs file"))
    }
}

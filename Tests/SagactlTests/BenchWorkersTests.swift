import Foundation
import Interpreter
import Testing

/// `sagactl bench --workers W`: W worker processes drain sagas created beforehand, on a scratch
/// SQLite file or on the PostgreSQL database given with `--db`.
@Suite("sagactl bench --workers")
struct BenchWorkersTests {
    @Test("Two worker processes run every saga to its end and report sagas/s", arguments: TestDatabase.underTest)
    func twoWorkersDrainTheSagas(database: TestDatabase) async throws {
        let dir = try CLI.temporaryDirectory()
        defer {
            do { try FileManager.default.removeItem(at: dir) } catch { Issue.record("removing \(dir.path): \(error)") }
        }
        try await database.run(in: dir) {
            var arguments = ["bench", "--workers", "2", "--sagas", "60", "--concurrency", "8", "--fail-at", "3", "--json"]
            // SQLite: the bench's own scratch file; PostgreSQL: the case's fresh schema.
            if database == .postgres { arguments += ["--db", try #require(TestDatabase.current)] }
            let result = try await CLI.run(arguments, timeout: 180)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["workers"] as? Int == 2)
            #expect(json["sagas"] as? Int == 60)
            #expect((json["counts"] as? [String: Int]) == ["compensated": 60])
            #expect((json["sagas_per_second"] as? Double ?? 0) > 0)
            if database == .postgres {
                let store = try #require(TestDatabase.currentStore)
                let records = try await store.listInstances(InstanceQuery(limit: 1_000))
                #expect(records.count == 60 && records.allSatisfy { $0.status == .compensated })
                // Each ended with the lease of one of the two worker processes.
                let owners = Set(records.compactMap(\.leaseOwner))
                #expect(records.allSatisfy { $0.leaseOwner != nil } && (1...2).contains(owners.count), "\(owners)")
            }
        }
    }
}

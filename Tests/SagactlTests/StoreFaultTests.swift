import Foundation
import GRDB
import Testing

/// Storage faults, through the built binary: each one gives the documented exit status and a
/// message that says what happened and what to do next (never a stack trace or SQL), no
/// instance is left half-written, and once the fault is removed the next command carries on.
///
/// The lock and the header edits use a GRDB connection of the test's own (another process as
/// far as `sagactl` is concerned). A full disk is simulated with the store's fault-injection
/// hook `SAGACTL_SQLITE_MAX_PAGE_COUNT` (`PRAGMA max_page_count`).
///
/// These run on SQLite only: each fault is one of the file (a lock held by another
/// connection, permissions, a full disk, truncation, a damaged page, the header's schema
/// version). PostgreSQL's counterparts (a wrong password, a missing database, a schema from a
/// newer sagactl, tables it did not create) are in `Tests/StoreTests/PostgresStoreTests`.
@Suite("Storage faults, end to end", .serialized)
struct StoreFaultTests {
    static let workflow = "Tests/SagactlTests/Fixtures/faults/two-steps.yaml"
    static let services = "examples/services-exec.yaml"
    let dir: URL
    var db: String { dir.appendingPathComponent("sagas.sqlite").path }
    var log: URL { dir.appendingPathComponent("calls.log") }

    init() throws { dir = try CLI.temporaryDirectory() }

    // MARK: Support

    func run(_ input: String = #"{"productId": 1}"#, db: String? = nil, environment: [String: String] = [:]) async throws -> CLI.Result {
        try await CLI.run(["run", Self.workflow, "--services", Self.services, "--input", input, "--db", db ?? self.db],
                    environment: ["SHOP_LOG": log.path].merging(environment) { _, b in b })
    }

    /// The instances, newest first, as `sagactl list --json` shows them.
    func instances(db: String? = nil) async throws -> [[String: Any]] {
        let list = try await CLI.run(["list", "--db", db ?? self.db, "--json", "--limit", "1000"])
        try #require(list.status == 0, "\(list.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    }

    /// The command failed as documented: status, message fragments (what happened and what
    /// to do), and nothing a user should not see.
    func expectClearFailure(_ result: CLI.Result, status: Int32, _ fragments: [String],
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(result.stderr.contains(fragment), "no '\(fragment)' in: \(result.stderr)", sourceLocation: sourceLocation)
        }
        // Progress lines may come first (`run`, `resume`); the error is the last thing said.
        #expect(result.stderr.contains("sagactl: error: "), "\(result.stderr)", sourceLocation: sourceLocation)
        for leak in ["SELECT ", "INSERT ", "UPDATE ", "CREATE ", "PRAGMA ", "Fatal error", "Backtrac", "Thread 0", "0x0000"] {
            #expect(!result.stderr.contains(leak), "'\(leak)' in: \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// A 100 KB input: its instance row and the Notify step row each need many pages.
    var largeInput: String { #"{"productId": 1, "blob": "\#(String(repeating: "x", count: 100_000))"}"# }

    func pageCount(_ path: String) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }  // read-only use
        return try queue.read { try Int.fetchOne($0, sql: "PRAGMA page_count") ?? 0 }
    }

    /// Per state, the distinct idempotency keys the shop saw for `instance`.
    func keysByState(of instance: String) -> [String: Set<String>] {
        var keys: [String: Set<String>] = [:]
        for call in ShopCall.read(log) where call.instance == instance { keys[call.state, default: []].insert(call.key) }
        return keys
    }

    // MARK: Locked

    @Test("Locked by another process: exit 75 after the busy timeout, then it runs once the lock is gone")
    func lockedByAnotherProcess() async throws {
        #expect(try await run().status == 0)
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the lock outlives one database access
        let holder = try DatabaseQueue(path: db, configuration: configuration)
        try await holder.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
        let began = Date()
        let blocked = try await run()
        expectClearFailure(blocked, status: 75, ["is locked by another process for more than 5 s", "hint: another sagactl is writing"])
        #expect(Date().timeIntervalSince(began) >= 5, "gave up before the busy timeout")
        try await holder.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
        try holder.close()
        #expect(try await run().status == 0)
        #expect(try await instances().count == 2)
    }

    // MARK: Read-only

    /// Root ignores permission bits, so the file is made immutable (`chattr +i`) instead,
    /// where the file system supports it.
    static let canMakeReadOnly: Bool = {
        if geteuid() != 0 { return true }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("sagactl-chattr-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: probe.path, contents: Data("x".utf8)) else { return false }
        defer { try? FileManager.default.removeItem(at: probe) }  // a probe in /tmp
        guard (try? shell(["chattr", "+i", probe.path])) == 0 else { return false }
        let handle = try? FileHandle(forWritingTo: probe)
        try? handle?.close()
        _ = try? shell(["chattr", "-i", probe.path])
        return handle == nil
    }()

    @discardableResult
    static func shell(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func makeReadOnly(_ path: String, _ readOnly: Bool) throws {
        if geteuid() == 0 {
            try #require(try Self.shell(["chattr", readOnly ? "+i" : "-i", path]) == 0)
        } else {
            try FileManager.default.setAttributes([.posixPermissions: readOnly ? 0o444 : 0o644], ofItemAtPath: path)
        }
    }

    @Test("A read-only database file: exit 74 saying to check permissions, then it runs again",
          .enabled(if: canMakeReadOnly, "running as root on a file system without chattr +i: nothing makes a file read-only for root"))
    func readOnlyFile() async throws {
        #expect(try await run().status == 0)
        try makeReadOnly(db, true)
        let refused: CLI.Result
        do {
            defer { try? makeReadOnly(db, false) }  // so the directory can be removed whatever happens
            refused = try await run()
        }
        expectClearFailure(refused, status: 74, ["cannot open \(db) for writing", "this user may write the file and its folder"])
        #expect(try await run().status == 0)
        #expect(try await instances().map { $0["status"] as? String } == ["succeeded", "succeeded"])
    }

    // MARK: Full

    @Test("Disk full while starting: exit 74, no instance at all; the same run works once there is room")
    func fullBeforeTheFirstCheckpoint() async throws {
        #expect(try await run().status == 0)
        let full = try await run(largeInput, environment: ["SAGACTL_SQLITE_MAX_PAGE_COUNT": "1"])
        expectClearFailure(full, status: 74, ["the disk is full (database or disk is full)", "free some space and try again"])
        #expect(try await instances().count == 1, "a half-created instance was left behind")
        let again = try await run(largeInput)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await instances().count == 2)
    }

    @Test("Disk full in the middle of a run: exit 74, the instance keeps its checkpoints, recover finishes it")
    func fullInTheMiddle() async throws {
        let id = try await CLI.run(["start", Self.workflow, "--services", Self.services, "--input", largeInput, "--db", db])
        try #require(id.status == 0, "\(id.stderr)")
        let instance = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pages = try pageCount(db)
        // How much room lets the run get past its first step but not to the end depends on row
        // layout; find it on copies of the database, growing the room until a run stops halfway.
        var stopped: (copy: String, result: CLI.Result)?
        for extra in stride(from: 5, through: 200, by: 5) where stopped == nil {
            let copy = dir.appendingPathComponent("copy-\(extra).sqlite").path
            try FileManager.default.copyItem(atPath: db, toPath: copy)
            let result = try await CLI.run(["resume", instance, "--db", copy, "--services", Self.services],
                                     environment: ["SHOP_LOG": log.path, "SAGACTL_SQLITE_MAX_PAGE_COUNT": "\(pages + extra)"])
            let history = try await CLI.run(["history", instance, "--db", copy, "--json"])
            let steps = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
            if result.status != 0, steps.contains(where: { $0["status"] as? String == "SU" }) { stopped = (copy, result) }
            if result.status == 0 { break }  // more room only runs further
        }
        let (copy, result) = try #require(stopped, "no amount of room stopped the run after its first step")
        expectClearFailure(result, status: 74, ["the disk is full", "free some space and try again"])
        let halfway = try #require(try await instances(db: copy).first)
        #expect(halfway["status"] as? String == "running")

        // Room again: recover takes the instance over (its process is gone) and finishes it.
        let recovered = try await CLI.run(["recover", "--db", copy, "--services", Self.services, "--json"],
                                    environment: ["SHOP_LOG": log.path])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(try await instances(db: copy).first?["status"] as? String == "succeeded")
        // Every step kept one idempotency key across the attempts on all the copies.
        for (state, keys) in keysByState(of: instance) { #expect(keys.count == 1, "\(state): \(keys)") }
        #expect(Set(keysByState(of: instance).keys) == ["Reserve", "Notify"])
    }

    // MARK: Damaged files

    /// A database with `count` finished instances whose 20 KB inputs fill most of its pages,
    /// all of it in the file itself: the write-ahead log folded in and removed.
    func databaseWithInstances(_ count: Int) async throws {
        for n in 0..<count {
            let result = try await run(#"{"productId": \#(n), "blob": "\#(String(repeating: "y", count: 20_000))"}"#)
            try #require(result.status == 0, "\(result.stderr)")
        }
        // The last connection to close folds the log in; sagactl leaves that to process exit.
        let queue = try DatabaseQueue(path: db)
        try await queue.writeWithoutTransaction { _ = try String.fetchAll($0, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        let log = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
        try #require(log == 0, "the write-ahead log still holds \(log) bytes")
    }

    @Test("A truncated file: exit 74 saying it is damaged; restoring the copy works again")
    func truncatedFile() async throws {
        try await databaseWithInstances(8)
        let backup = db + ".backup"
        try FileManager.default.copyItem(atPath: db, toPath: backup)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: db))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let list = try await CLI.run(["list", "--db", db, "--json", "--limit", "1000"])
        expectClearFailure(list, status: 74, ["is damaged", "restore it from a backup"])
        try FileManager.default.removeItem(atPath: db)
        try FileManager.default.moveItem(atPath: backup, toPath: db)
        #expect(try await instances().count == 8)
        #expect(try await run().status == 0)
    }

    @Test("Garbage over a page in the middle of the file: exit 74 saying it is damaged, not a crash")
    func corruptedPage() async throws {
        try await databaseWithInstances(8)
        // The page every listing reads: the root of the instances table, somewhere inside the
        // file. Its 8-byte header stays; the cells after it become garbage.
        let queue = try DatabaseQueue(path: db)
        let (root, pageSize, pages) = try await queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'instances'") ?? 0,
             try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0, try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0)
        }
        try queue.close()
        try #require(root > 1 && root < pages, "root page \(root) of \(pages)")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: db))
        try handle.seek(toOffset: UInt64((root - 1) * pageSize + 8))
        try handle.write(contentsOf: Data((0..<(pageSize - 8)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
        try handle.close()
        let list = try await CLI.run(["list", "--db", db, "--json", "--limit", "1000"])
        expectClearFailure(list, status: 74, ["damaged", "restore it from a backup"])
        // Moving it away, as the message says, gives a new database.
        try FileManager.default.moveItem(atPath: db, toPath: db + ".damaged")
        #expect(try await run().status == 0)
        #expect(try await instances().count == 1)
    }

    @Test("A schema version from a newer sagactl: exit 74 saying to upgrade, the file untouched")
    func newerSchemaVersion() async throws {
        #expect(try await run().status == 0)
        let queue = try DatabaseQueue(path: db)
        let current = try await queue.read { try Int.fetchOne($0, sql: "PRAGMA user_version") } ?? 0
        try await queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for command in [["list"], ["run", Self.workflow, "--services", Self.services]] {
            let result = try await CLI.run(command + ["--db", db])
            expectClearFailure(result, status: 74, ["was written by a newer sagactl (schema version 99", "upgrade sagactl to use it"])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        let fix = try DatabaseQueue(path: db)
        try await fix.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = \(current)") }
        try fix.close()
        #expect(try await instances().count == 1)
    }
}

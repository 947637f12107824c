import Foundation
import Interpreter
import PostgresStore
import SQLiteStore
import StateLang

/// `sagactl bench --workers W`: throughput of W `sagactl` worker processes sharing one
/// database. This process creates the sagas (untimed), then starts W copies of itself in the
/// hidden `--drain` mode (the bench workflow's no-op actions live in the process, so the
/// workers are `sagactl bench --drain`, not `sagactl worker`, which would need a services
/// file and a process per call), and times them from start until the last one has exited.
extension BenchCommand {
    /// The database the workers share: its locator (a URL keeps its password: it goes to the
    /// workers through the environment, never their command line) and a store open on it.
    struct Shared {
        var location: String
        var store: any InstanceStore
    }

    /// Instances created at once while enqueueing.
    static let enqueueConcurrency = 16

    func runWorkers(_ workers: Int, workflow: Workflow, yaml: String, shared: Shared) async throws -> WorkersReport {
        let engine = SagaEngine(store: shared.store, leaseDuration: 600)
        engine.register(workflow, source: yaml)
        let countsBefore = try await shared.store.countByStatus()
        if !output.json { Terminal.err("creating \(sagas) sagas of \(steps) steps…\n") }
        let enqueueStarted = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let n = next
                next += 1
                group.addTask { _ = try await engine.enqueue(workflow, input: ["order": .int(n)]) }
            }
            while next < min(Self.enqueueConcurrency, sagas) { add() }
            while try await group.next() != nil {
                if next < sagas { add() }
            }
        }
        let enqueueSeconds = Date().timeIntervalSince(enqueueStarted)
        if !output.json {
            Terminal.err("running them on \(workers) worker process\(workers == 1 ? "" : "es"), \(concurrency) sagas at a time each…\n")
        }
        var arguments = ["bench", "--drain", "--steps", "\(steps)", "--fail-at", "\(failAt)", "--concurrency", "\(concurrency)"]
        if db == nil { arguments += ["--durability", durability.rawValue] }
        let started = Date()
        let processes = try (0..<workers).map { _ in try Self.spawnSelf(arguments, database: shared.location) }
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for process in processes { group.addTask { try await Self.exitStatus(of: process) } }
            var all: [Int32] = []
            for try await status in group { all.append(status) }
            return all
        }
        let seconds = Date().timeIntervalSince(started)
        if let failed = statuses.first(where: { $0 != 0 }) {
            throw CommandFailure("a worker process exited with status \(failed)", code: SagaExit.internalError)
        }
        var counts = try await shared.store.countByStatus()
        for (status, count) in countsBefore { counts[status, default: 0] -= count }
        return WorkersReport(workers: workers, sagas: sagas, concurrency: concurrency, steps: steps, failAt: failAt,
                             store: db == nil ? "SQLite (\(durability.rawValue))" : "PostgreSQL",
                             enqueueSeconds: enqueueSeconds, seconds: seconds, counts: counts.filter { $0.value != 0 })
    }

    /// `--drain`: one worker of `--workers`. Runs the bench workflow's instances in the
    /// database named by `$SAGACTL_DB` until none is left.
    func drain(workflow: Workflow, yaml: String) async throws {
        guard let location = ProcessInfo.processInfo.environment["SAGACTL_DB"], !location.isEmpty else {
            throw CommandFailure("--drain reads the database from $SAGACTL_DB, which is not set",
                                 hint: "use `sagactl bench --workers W`, which sets it", code: SagaExit.usage)
        }
        let store: any InstanceStore
        let close: () async throws -> Void
        if PostgresURL.isPostgres(location) {
            do {
                let postgres = try await PostgresStore(url: location)
                (store, close) = (postgres, { await postgres.close() })
            } catch let error as StoreError {
                throw CommandFailure.store(error, path: PostgresURL.redacted(location))
            }
        } else {
            let sqlite = try SQLiteInstanceStore(path: location, durability: durability.value)
            (store, close) = (sqlite, { try sqlite.close() })
        }
        let engine = SagaEngine(store: store, leaseDuration: 30)
        engine.register(workflow, source: yaml)
        registerActions(engine)
        do {
            _ = try await engine.work(concurrency: concurrency, untilIdle: true)
        } catch {
            try await close()
            throw error
        }
        try await close()
    }

    /// The bench service: no-op steps; step `--fail-at` fails with a business error.
    func registerActions(_ engine: SagaEngine) {
        let failing = failAt > 0 ? "s\(failAt)" : nil
        engine.localActions.register(service: "bench") { call in
            if call.serviceMethod == failing { throw ActionFailure(ErrorName("ActionError.Declined"), "step \(call.serviceMethod) fails") }
            return .null
        }
    }

    /// Starts this executable with `arguments`, the database in its environment.
    static func spawnSelf(_ arguments: [String], database: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SAGACTL_DB"] = database
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot start a worker process: \(error.localizedDescription)", code: SagaExit.internalError)
        }
        return process
    }

    /// Waits for `process` to exit without holding a thread; a signal counts as status 128+n.
    static func exitStatus(of process: Process) async throws -> Int32 {
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }
}

/// What `sagactl bench --workers W` measured.
struct WorkersReport {
    var workers: Int
    var sagas: Int
    var concurrency: Int
    var steps: Int
    var failAt: Int
    var store: String
    var enqueueSeconds: Double
    var seconds: Double
    var counts: [InstanceStatus: Int]

    var sagasPerSecond: Double { Double(sagas) / seconds }

    func json() -> JSONValue {
        .object([
            "workers": .int(workers), "sagas": .int(sagas), "concurrency_per_worker": .int(concurrency),
            "steps": .int(steps), "fail_at": .int(failAt), "store": .string(store),
            "enqueue_seconds": .double(enqueueSeconds), "seconds": .double(seconds),
            "sagas_per_second": .double(sagasPerSecond),
            "counts": .object(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
        ])
    }

    func text() -> String {
        let rate = (sagasPerSecond * 10).rounded() / 10
        return """
            \(workers) worker process\(workers == 1 ? "" : "es") × \(concurrency) at a time, \(store): \
            \(sagas) sagas of \(steps) steps in \((seconds * 100).rounded() / 100) s = \(rate) sagas/s \
            (created beforehand in \((enqueueSeconds * 100).rounded() / 100) s)
            \(StatusCounts.line(counts))

            """
    }
}

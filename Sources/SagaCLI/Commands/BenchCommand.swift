import ArgumentParser
import Foundation
import Interpreter
import PostgresStore
import SQLiteStore
import StateLang

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure saga throughput and latency on a fresh database, with the disk's raw limits beside them.",
        discussion: """
            Runs N sagas of a generated workflow (the order-payment shape: S steps, each with a \
            compensation, no-op in-process actions) on a new SQLite file with the given durability, \
            C at a time. In the same run it measures SQLite's raw single-row commits/s and batched \
            rows/s with the same settings, so the engine's cost is a ratio. With --db URL it runs \
            on that PostgreSQL database instead (no raw baseline).

            With --workers W it measures worker processes sharing the database instead: it \
            creates the N sagas first (untimed), then starts W worker processes (C sagas at a \
            time each) and times them until the last one has run out of work. Give each run a \
            fresh schema: instances left in it would be run too.

            Example:
              sagactl bench --sagas 20000 --concurrency 256
              sagactl bench --sagas 5000 --fail-at 4 --json
              sagactl bench --db 'postgres://me@127.0.0.1/sagas?schema=bench'
              sagactl bench --db 'postgres://me@127.0.0.1/sagas?schema=bench_w4' --workers 4 --concurrency 64
            """)

    @Option(name: .long, help: "Sagas to run.") var sagas = 10_000
    @Option(name: .long, help: "Sagas in flight at once.") var concurrency = 256
    @Option(name: .long, help: "Steps per saga.") var steps = 5
    @Option(name: .long, help: ArgumentHelp("Step K fails, so K−1 compensations run (0: none fails).", valueName: "K"))
    var failAt = 0
    @Option(name: .long, help: "full or normal.") var durability: DurabilityChoice = .full
    @Option(name: .long, help: ArgumentHelp("Directory for the scratch databases (default: a new temporary one).", valueName: "dir"))
    var directory: String?
    @Flag(name: .long, help: "Skip the raw SQLite baseline.") var noBaseline = false
    @Option(name: .long, help: ArgumentHelp(
        "Run on this PostgreSQL database instead of a scratch SQLite file. Give it a schema of its own "
            + "(…?schema=bench): the instances stay there.", valueName: "postgres-url"))
    var db: String?
    @Option(name: .long, help: ArgumentHelp(
        "Run the sagas in this many worker processes sharing the database (0: in this process).", valueName: "W"))
    var workers = 0
    @Flag(name: .long, help: .hidden) var drain = false
    @Option(name: .long, help: ArgumentHelp(
        "Print a generated workflow of N states (ServiceTasks with compensations, Choices, Catches) and exit.",
        valueName: "N"))
    var generateWorkflow: Int?
    @Option(name: .long, help: ArgumentHelp(
        "Start N sagas, stop each in step --stop-at, and exit, leaving them abandoned in --keep-db "
            + "(to time `sagactl recover --db FILE`).", valueName: "N"))
    var abandon: Int?
    @Option(name: .long, help: ArgumentHelp("With --abandon: the step the sagas stop in.", valueName: "K"))
    var stopAt = 3
    @Option(name: .long, help: ArgumentHelp(
        "Hold N sagas in flight at once, each waiting in its first step, and report the resident memory "
            + "each adds (bytes_per_inflight_instance).", valueName: "N"))
    var inflight: Int?
    @Flag(name: .long, help: ArgumentHelp(
        "With --inflight: each saga's caller awaits SagaEngine.run in a task of its own, and its action waits in "
            + "that task (the default starts the sagas with SagaEngine.start and a deferred action: a waiting saga holds no task)."))
    var awaited = false
    @Option(name: .long, help: ArgumentHelp("Keep the database in this new file (--abandon, --inflight).", valueName: "path"))
    var keepDb: String?
    @Option(name: .long, help: ArgumentHelp("Lease of the instances (--abandon, --inflight).", valueName: "seconds"))
    var leaseSeconds: Double = 30
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let generateWorkflow, generateWorkflow < 4 { throw ValidationError("--generate-workflow needs at least 4 states") }
        if let abandon {
            guard abandon > 0 else { throw ValidationError("--abandon must be positive") }
            guard keepDb != nil else { throw ValidationError("--abandon needs --keep-db FILE: the abandoned instances stay there") }
            guard stopAt >= 1, stopAt <= steps else { throw ValidationError("--stop-at must be between 1 and --steps") }
        }
        if let inflight, inflight <= 0 { throw ValidationError("--inflight must be positive") }
        if abandon != nil || inflight != nil {
            guard db == nil else { throw ValidationError("--abandon and --inflight use an SQLite file") }
            guard leaseSeconds >= 1 else { throw ValidationError("--lease-seconds must be at least 1") }
        }
        guard sagas > 0, concurrency > 0, steps > 0 else { throw ValidationError("--sagas, --concurrency and --steps must be positive") }
        guard failAt >= 0, failAt <= steps else { throw ValidationError("--fail-at must be between 0 and --steps") }
        guard workers >= 0, workers <= 64 else { throw ValidationError("--workers must be between 0 and 64") }
        if let db {
            guard PostgresURL.isPostgres(db) else { throw ValidationError("--db takes a postgres:// URL (the SQLite bench uses a scratch file)") }
            guard durability == .full else { throw ValidationError("--durability applies to the SQLite bench only") }
        }
    }

    func run() async throws {
        if let generateWorkflow {
            Terminal.out(SyntheticWorkflow.yaml(states: generateWorkflow))
            return
        }
        if let abandon, let keepDb { return try await runAbandon(count: abandon, path: keepDb) }
        if let inflight { return try await runInflight(count: inflight) }
        let yaml = BenchWorkflow.yaml(steps: steps)
        let compiled = WorkflowPipeline.compile(text: yaml, path: "bench.yaml")
        guard let workflow = compiled.workflow else {
            throw CommandFailure("the generated workflow does not compile: \(compiled.diagnostics.map(\.message))", code: SagaExit.internalError)
        }
        if drain {
            try await self.drain(workflow: workflow, yaml: yaml)
            return
        }
        let dir = directory ?? NSTemporaryDirectory() + "sagactl-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let store: any InstanceStore & CommitStatisticsReporting
        let closeStore: () async throws -> Void
        if let db {
            do {
                let postgres = try await PostgresStore(url: db)
                store = postgres
                closeStore = { await postgres.close() }
            } catch let error as StoreError {
                throw CommandFailure.store(error, path: PostgresURL.redacted(db))
            }
        } else {
            let sqlite = try SQLiteInstanceStore(path: dir + "/bench.sqlite", durability: durability.value)
            store = sqlite
            closeStore = { try sqlite.close() }
        }
        if workers > 0 {
            let report: WorkersReport
            do {
                report = try await runWorkers(workers, workflow: workflow, yaml: yaml,
                                              shared: Shared(location: db ?? dir + "/bench.sqlite", store: store))
            } catch {
                try await closeStore()
                throw error
            }
            try await closeStore()
            Terminal.out(output.json ? report.json().jsonString(pretty: true) + "\n" : report.text())
            let expected: InstanceStatus = failAt > 0 ? .compensated : .succeeded
            if report.counts[expected] != sagas {
                throw CommandFailure("not every saga ended \(expected.rawValue): \(StatusCounts.line(report.counts))", code: SagaExit.internalError)
            }
            return
        }
        let storeName = db == nil ? durability.rawValue : "PostgreSQL"
        let engine = SagaEngine(store: store, leaseDuration: 600)
        engine.register(workflow, source: yaml)
        registerActions(engine)
        if !output.json { Terminal.err("running \(sagas) sagas of \(steps) steps, \(concurrency) at a time (\(storeName))…\n") }
        // A PostgreSQL database may hold earlier runs: count only this run's instances.
        let countsBefore = try await store.countByStatus()
        let progress = BenchProgress(total: sagas, enabled: !output.json && Terminal.stderrIsTTY)
        let started = Date()
        let latencies = try await BenchRunner.run(engine: engine, workflow: workflow, sagas: sagas,
                                                  concurrency: concurrency, progress: progress)
        let elapsed = Date().timeIntervalSince(started)
        progress.finish()
        let statistics = store.commitStatistics
        var counts = try await store.countByStatus()
        for (status, count) in countsBefore { counts[status, default: 0] -= count }
        counts = counts.filter { $0.value != 0 }
        try await closeStore()
        var baseline: SQLiteBaseline.Result?
        if !noBaseline, db == nil {
            if !output.json { Terminal.err("measuring SQLite's raw limits with the same settings…\n") }
            baseline = try SQLiteBaseline.measure(directory: dir, durability: durability.value)
        }
        let report = BenchReport(
            sagas: sagas, concurrency: concurrency, steps: steps, failAt: failAt, durability: storeName,
            seconds: elapsed, latencies: latencies.sorted(), commits: statistics.batches,
            transitions: statistics.transitions, rows: statistics.rows, counts: counts, baseline: baseline,
            peakRSS: BenchReport.peakRSSBytes())
        Terminal.out(output.json ? report.json().jsonString(pretty: true) + "\n" : report.text())
        let expected: InstanceStatus = failAt > 0 ? .compensated : .succeeded
        if counts[expected] != sagas {
            throw CommandFailure("not every saga ended \(expected.rawValue): \(StatusCounts.line(counts))", code: SagaExit.internalError)
        }
    }
}

/// The generated benchmark workflow: `steps` service tasks in a row, each with a compensation
/// and a catch to a trigger, as in order-payment.
enum BenchWorkflow {
    static func yaml(steps: Int, service: String = "bench") -> String {
        var out = "Name: bench\nStartState: S1\nStates:\n"
        for n in 1...steps {
            let next = n == steps ? "Done" : "S\(n + 1)"
            out += """
                  S\(n):
                    Type: ServiceTask
                    ServiceName: \(service)
                    ServiceMethod: s\(n)
                    CompensateState: U\(n)
                    Input: [{ order: "$.[order]", step: \(n) }]
                    Catch: [{ Exceptions: [Throwable], Next: Rollback }]
                    Next: \(next)
                  U\(n):
                    Type: ServiceTask
                    ServiceName: \(service)
                    ServiceMethod: u\(n)
                    Input: [{ order: "$.[order]" }]

                """
        }
        out += "  Done: { Type: Succeed }\n  Rollback: { Type: CompensationTrigger, Next: Failed }\n  Failed: { Type: Fail }\n"
        return out
    }
}

enum BenchRunner {
    /// Starts the sagas with `SagaEngine.start` from a few tasks (a saga that waits holds
    /// none); returns, once every one has ended, each one's latency in seconds.
    static func start(engine: SagaEngine, workflow: Workflow, sagas: Int, starters: Int = 16) async throws -> [Double] {
        let ends = BenchEnds(expected: sagas)
        let next = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(starters, sagas) {
                group.addTask {
                    while true {
                        let n = next.withLock { n -> Int in
                            defer { n += 1 }
                            return n
                        }
                        guard n < sagas else { return }
                        let t0 = Date()
                        try await engine.start(workflow, input: ["order": .int(n)]) { end in
                            ends.record(end, seconds: Date().timeIntervalSince(t0))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return try await ends.all()
    }

    /// Runs the sagas with at most `concurrency` in flight; returns each saga's latency in seconds.
    static func run(engine: SagaEngine, workflow: Workflow, sagas: Int, concurrency: Int,
                    progress: BenchProgress) async throws -> [Double] {
        try await withThrowingTaskGroup(of: Double.self) { group in
            var latencies: [Double] = []
            latencies.reserveCapacity(sagas)
            var next = 0
            func add() {
                let n = next
                next += 1
                group.addTask {
                    let t0 = Date()
                    _ = try await engine.run(workflow, input: ["order": .int(n)])
                    return Date().timeIntervalSince(t0)
                }
            }
            while next < min(concurrency, sagas) { add() }
            while let latency = try await group.next() {
                latencies.append(latency)
                progress.tick()
                if next < sagas { add() }
            }
            return latencies
        }
    }
}

/// The ends of sagas started with `SagaEngine.start`, as they are reported.
final class BenchEnds: Sendable {
    private struct State {
        var latencies: [Double] = []
        var failure: (any Error)?
        var waiter: CheckedContinuation<[Double], any Error>?
    }

    private let expected: Int
    private let state = Locked(State())

    init(expected: Int) { self.expected = expected }

    func record(_ end: Result<InstanceRecord, any Error>, seconds: Double) {
        let done = state.withLock { state -> (CheckedContinuation<[Double], any Error>, State)? in
            switch end {
            case .success: state.latencies.append(seconds)
            case .failure(let error): state.failure = state.failure ?? error
            }
            guard state.latencies.count >= expected || state.failure != nil, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, state)
        }
        if let (waiter, final) = done { Self.resume(waiter, final) }
    }

    /// Every latency once all have ended; the first failure if one failed.
    func all() async throws -> [Double] {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> State? in
                if state.failure != nil || state.latencies.count >= expected { return state }
                state.waiter = continuation
                return nil
            }
            if let ready { Self.resume(continuation, ready) }
        }
    }

    private static func resume(_ waiter: CheckedContinuation<[Double], any Error>, _ state: State) {
        if let failure = state.failure { waiter.resume(throwing: failure) } else { waiter.resume(returning: state.latencies) }
    }
}

final class BenchProgress: @unchecked Sendable {
    let total: Int
    let enabled: Bool
    private var done = 0
    private var lastPrinted = Date.distantPast
    private let lock = NSLock()

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func tick() {
        guard enabled else { return }
        lock.lock()
        done += 1
        let now = Date()
        let print = now.timeIntervalSince(lastPrinted) > 0.25 || done == total
        if print { lastPrinted = now }
        let current = done
        lock.unlock()
        if print { Terminal.err("\r  \(current)/\(total) sagas") }
    }

    func finish() { if enabled { Terminal.err("\n") } }
}

struct BenchReport {
    var sagas: Int
    var concurrency: Int
    var steps: Int
    var failAt: Int
    var durability: String
    var seconds: Double
    var latencies: [Double]
    var commits: Int
    var transitions: Int
    var rows: Int
    var counts: [InstanceStatus: Int]
    var baseline: SQLiteBaseline.Result?
    var peakRSS: Int

    var sagasPerSecond: Double { Double(sagas) / seconds }
    var rowsPerSecond: Double { Double(rows) / seconds }
    var commitsPerSaga: Double { Double(transitions) / Double(sagas) }
    var overheadRatio: Double? { baseline.map { rowsPerSecond / $0.batchedRowsPerSecond } }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let index = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
        return latencies[max(0, index)] * 1000
    }

    func json() -> JSONValue {
        var object: [String: JSONValue] = [
            "sagas": .int(sagas), "concurrency": .int(concurrency), "steps": .int(steps), "fail_at": .int(failAt),
            "durability": .string(durability), "seconds": .double(seconds),
            "sagas_per_second": .double(sagasPerSecond.rounded()),
            "p50_ms": .double(percentile(0.5)), "p99_ms": .double(percentile(0.99)), "max_ms": .double(percentile(1.0)),
            "commits_per_saga": .double(commitsPerSaga), "transactions": .int(commits),
            "transitions_per_transaction": .double(Double(transitions) / Double(max(commits, 1))),
            "rows_per_second": .double(rowsPerSecond.rounded()),
            "peak_rss_bytes": .int(peakRSS),
        ]
        if let baseline {
            object["raw_commits_per_second"] = .double(baseline.singleRowCommitsPerSecond.rounded())
            object["raw_rows_per_second"] = .double(baseline.batchedRowsPerSecond.rounded())
            object["overhead_ratio"] = .double(((overheadRatio ?? 0) * 1000).rounded() / 1000)
        }
        return .object(object)
    }

    func text() -> String {
        var lines = [
            String(format: "sagas/s            %.0f  (%d sagas in %.2f s, concurrency %d, %d steps%@, durability %@)",
                   sagasPerSecond, sagas, seconds, concurrency, steps, failAt > 0 ? ", step \(failAt) fails" as NSString : "" as NSString, durability as NSString),
            String(format: "latency            p50 %.2f ms, p99 %.2f ms, max %.2f ms", percentile(0.5), percentile(0.99), percentile(1.0)),
            String(format: "checkpoints        %.1f writes per saga, %.1f per transaction (group commit), %.0f rows/s",
                   commitsPerSaga, Double(transitions) / Double(max(commits, 1)), rowsPerSecond),
        ]
        if let baseline {
            lines.append(String(format: "SQLite raw         %.0f single-row commits/s, %.0f batched rows/s", baseline.singleRowCommitsPerSecond, baseline.batchedRowsPerSecond))
            lines.append(String(format: "engine/raw rows    %.2f", overheadRatio ?? 0))
            if concurrency == 1 {
                lines.append(String(format: "commit efficiency  %.2f (sagas/s × writes per saga ÷ raw commits/s)",
                                    sagasPerSecond * commitsPerSaga / baseline.singleRowCommitsPerSecond))
            }
        }
        lines.append(String(format: "peak RSS           %.1f MiB", Double(peakRSS) / 1_048_576))
        lines.append("outcome            " + StatusCounts.line(counts))
        return lines.joined(separator: "\n") + "\n"
    }

    static func peakRSSBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
    }
}

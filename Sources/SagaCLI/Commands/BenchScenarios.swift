import Foundation
import Interpreter
import SQLiteStore
import StateLang

/// The scenarios of `sagactl bench` that are not throughput: abandoned instances for timing
/// `sagactl recover`, and the memory an instance in flight takes.
extension BenchCommand {
    /// `--abandon N`: starts N sagas whose step `--stop-at` never returns, waits until every
    /// one has committed that step's intent, and exits the process. The instances are left
    /// `running` in `--keep-db`, leased to a process that no longer exists (void at once on
    /// this host; expired after the lease on any other). Their steps call `sagactl-noop`, the
    /// built-in local service, so `sagactl recover --db FILE` can finish them.
    func runAbandon(count: Int, path: String) async throws {
        let store = try Self.openNewStore(path: path, durability: durability.value)
        let yaml = BenchWorkflow.yaml(steps: steps, service: BuiltInServices.noop)
        let workflow = try Self.compileBenchWorkflow(yaml)
        let engine = SagaEngine(store: store, leaseDuration: leaseSeconds)
        engine.register(workflow, source: yaml)
        let gate = ActionGate()
        engine.localActions.register(service: BuiltInServices.noop) { _ in .null }
        engine.localActions.register(service: BuiltInServices.noop, method: "s\(stopAt)") { _ in
            try await gate.wait()
            return .null
        }
        if !output.json { Terminal.err("starting \(count) sagas of \(steps) steps; each stops in step \(stopAt)…\n") }
        let started = Date()
        let progress = BenchProgress(total: count, enabled: !output.json && Terminal.stderrIsTTY)
        // The group never ends by itself (its sagas wait forever): the process exits inside it.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<count {
                group.addTask { _ = try await engine.run(workflow, input: ["order": .int(n)]) }
            }
            group.addTask {
                try await gate.waitForArrivals(count, deadline: Date().addingTimeInterval(600), progress: progress)
                throw AbandonReached()
            }
            do {
                while try await group.next() != nil {}
            } catch is AbandonReached {
                progress.finish()
            }
            let seconds = Date().timeIntervalSince(started)
            let counts = try await store.countByStatus()
            let report: JSONValue = .object([
                "abandoned": .int(count), "stopped_in_step": .int(stopAt), "steps": .int(steps),
                "database": .string(path), "seconds": .double(seconds),
                "counts": .object(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, JSONValue.int($0.value)) })),
            ])
            Terminal.out(output.json ? report.jsonString(pretty: true) + "\n"
                : "abandoned \(count) sagas in step \(stopAt) of \(steps) in \(path) (\(String(format: "%.2f", seconds)) s); "
                    + "finish them with: sagactl recover --db \(path)\n")
            // Exiting with the instances mid-saga is the point: every one has committed the
            // intent of its waiting step, and nothing else is pending in the store.
            Foundation.exit(0)
        }
    }

    /// `--inflight N`: N sagas each waiting in its first step at once; reports the resident
    /// memory they add, per instance, then releases them and lets them finish.
    ///
    /// By default the sagas are started with `SagaEngine.start` and their first step's action
    /// is deferred: a waiting saga is the engine's heap objects and the action's completion,
    /// with no task. With `--awaited`, each saga's caller awaits `SagaEngine.run` in a task of
    /// its own and the action waits in that task.
    func runInflight(count: Int) async throws {
        let dir = directory ?? NSTemporaryDirectory() + "sagactl-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let store = try Self.openNewStore(path: keepDb ?? dir + "/inflight.sqlite", durability: durability.value)
        let yaml = BenchWorkflow.yaml(steps: steps)
        let workflow = try Self.compileBenchWorkflow(yaml)
        let engine = SagaEngine(store: store, leaseDuration: leaseSeconds)
        engine.register(workflow, source: yaml)
        let gate = ActionGate()
        let holding = Locked(false)
        if awaited {
            engine.localActions.register(service: "bench") { call in
                if call.serviceMethod == "s1", holding.withLock({ $0 }) { try await gate.wait() }
                return .null
            }
        } else {
            engine.localActions.register(service: "bench") { _ in .null }
            engine.localActions.registerDeferred(service: "bench", method: "s1") { _, completion in
                if holding.withLock({ $0 }) { gate.hold(completion) } else { completion.succeed(.null) }
            }
        }
        // Warm up (the store's caches, the definition row, the runtime), then measure the
        // baseline with nothing in flight.
        _ = try await BenchRunner.run(engine: engine, workflow: workflow, sagas: 200, concurrency: 64,
                                      progress: BenchProgress(total: 200, enabled: false))
        MemoryReading.returnFreedMemory()
        let baseline = try MemoryReading.residentBytes()
        holding.withLock { $0 = true }
        if !output.json { Terminal.err("holding \(count) sagas in flight…\n") }
        let progress = BenchProgress(total: count, enabled: !output.json && Terminal.stderrIsTTY)
        let started = Date()
        var held = 0
        var heldUntrimmed = 0
        var peak = 0
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            group.addTask {
                if awaited {
                    return try await BenchRunner.run(engine: engine, workflow: workflow, sagas: count, concurrency: count,
                                                     progress: BenchProgress(total: count, enabled: false))
                }
                return try await BenchRunner.start(engine: engine, workflow: workflow, sagas: count)
            }
            try await gate.waitForArrivals(count, deadline: Date().addingTimeInterval(600), progress: progress)
            progress.finish()
            peak = BenchReport.peakRSSBytes()
            heldUntrimmed = try MemoryReading.residentBytes()
            // What the instances hold, not what starting 10,000 at once left in malloc's free
            // lists (both are reported).
            MemoryReading.returnFreedMemory()
            held = try MemoryReading.residentBytes()
            holding.withLock { $0 = false }
            gate.releaseAll()
            return try await group.next() ?? []
        }
        let seconds = Date().timeIntervalSince(started)
        let counts = try await store.countByStatus()
        try store.close()
        let perInstance = Double(held - baseline) / Double(count)
        let perInstanceUntrimmed = Double(heldUntrimmed - baseline) / Double(count)
        let report: JSONValue = .object([
            "inflight": .int(count), "steps": .int(steps), "durability": .string(durability.rawValue),
            "waiting": .string(awaited ? "awaited" : "deferred"),
            "baseline_rss_bytes": .int(baseline), "inflight_rss_bytes": .int(held), "peak_rss_bytes": .int(peak),
            "bytes_per_inflight_instance": .int(Int(perInstance.rounded())),
            "bytes_per_inflight_instance_before_trim": .int(Int(perInstanceUntrimmed.rounded())),
            "input_bytes_per_instance": .int(JSONValue.object(["order": .int(count)]).jsonString().utf8.count),
            "seconds": .double(seconds), "finished": .int(latencies.count),
        ])
        if output.json {
            Terminal.out(report.jsonString(pretty: true) + "\n")
        } else {
            Terminal.out(String(format: """
                in flight          %d sagas, each waiting in step 1 of %d (%@)
                resident memory    %.1f MiB with none in flight, %.1f MiB with all (peak %.1f MiB)
                per instance       %.0f bytes (%.2f KiB) resident; %.0f before malloc_trim
                """, count, steps, awaited ? "awaited: a task each" : "deferred: no task", Double(baseline) / 1_048_576, Double(held) / 1_048_576, Double(peak) / 1_048_576,
                perInstance, perInstance / 1024, perInstanceUntrimmed) + "\n")
        }
        let succeeded = (counts[.succeeded] ?? 0) - 200
        if succeeded != count {
            throw CommandFailure("not every saga in flight finished: \(StatusCounts.line(counts))", code: SagaExit.internalError)
        }
    }

    static func openNewStore(path: String, durability: SQLiteInstanceStore.Durability) throws -> SQLiteInstanceStore {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("\(path) exists", hint: "--keep-db names a new file", code: SagaExit.usage)
        }
        do {
            return try SQLiteInstanceStore(path: path, durability: durability)
        } catch let error as StoreError {
            throw CommandFailure.store(error, path: path)
        }
    }

    static func compileBenchWorkflow(_ yaml: String) throws -> Workflow {
        let compiled = WorkflowPipeline.compile(text: yaml, path: "bench.yaml")
        guard let workflow = compiled.workflow else {
            throw CommandFailure("the generated workflow does not compile: \(compiled.diagnostics.map(\.message))",
                                 code: SagaExit.internalError)
        }
        return workflow
    }
}

private struct AbandonReached: Error {}

/// Holds local action calls until released; counts the calls that arrived.
final class ActionGate: @unchecked Sendable {
    // @unchecked: every field is used only while holding `lock`.
    private let lock = NSLock()
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var held: [ActionCompletion] = []
    private var released = false

    /// Suspends the calling action until `releaseAll()`.
    func wait() async throws {
        await withCheckedContinuation { continuation in
            lock.lock()
            arrived += 1
            if released {
                lock.unlock()
                continuation.resume()
                return
            }
            waiting.append(continuation)
            lock.unlock()
        }
    }

    /// Keeps a deferred action's completion until `releaseAll()`.
    func hold(_ completion: ActionCompletion) {
        lock.lock()
        arrived += 1
        guard !released else {
            lock.unlock()
            completion.succeed(.null)
            return
        }
        held.append(completion)
        lock.unlock()
    }

    func releaseAll() {
        lock.lock()
        released = true
        let all = waiting
        let completions = held
        waiting = []
        held = []
        lock.unlock()
        for continuation in all { continuation.resume() }
        for completion in completions { completion.succeed(.null) }
    }

    private var arrivedCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return arrived
    }

    /// Returns once `count` calls have arrived; throws past `deadline`.
    func waitForArrivals(_ count: Int, deadline: Date, progress: BenchProgress) async throws {
        var reported = 0
        while true {
            let now = arrivedCount
            for _ in reported..<max(reported, now) { progress.tick() }
            reported = max(reported, now)
            if now >= count { return }
            guard Date() < deadline else {
                throw CommandFailure("only \(now) of \(count) sagas reached the waiting step in time", code: SagaExit.internalError)
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}

enum MemoryReading {
    /// Gives malloc's free pages back to the system (glibc's `malloc_trim`, looked up at run
    /// time: `malloc.h` is not in Swift's Glibc module), so that the resident size counts
    /// memory in use rather than what a burst freed. Does nothing where it is missing.
    static func returnFreedMemory() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }

    /// The resident set size now (not the peak), from `/proc/self/statm` (Linux only).
    static func residentBytes() throws -> Int {
        let text: String
        do {
            text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        } catch {
            throw CommandFailure("cannot read the resident memory (/proc/self/statm: \(error)); --inflight needs Linux",
                                 code: SagaExit.usage)
        }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else {
            throw CommandFailure("cannot read the resident memory: /proc/self/statm says '\(text)'", code: SagaExit.internalError)
        }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

import Foundation
import Testing
@testable import Interpreter
import StateLang

/// Deferred local actions (`LocalActions.registerDeferred`) and instances started with
/// `SagaEngine.start`, which wait for them without a task: the in-memory store, a manual
/// clock, completions kept by the test and completed when it says.
@Suite("Deferred actions and started instances")
struct DeferredActionTests {
    /// The calls the deferred action received, with their completions, in arrival order.
    final class Pending: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [(call: Invocation, completion: ActionCompletion)] = []
        func add(_ call: Invocation, _ completion: ActionCompletion) { lock.lock(); list.append((call, completion)); lock.unlock() }
        var all: [(call: Invocation, completion: ActionCompletion)] { lock.lock(); defer { lock.unlock() }; return list }
        func first(_ state: String) -> ActionCompletion? { all.first { $0.call.stateName == state }?.completion }
    }

    /// What `onFinish` reported, and how many times.
    final class Ends: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Result<InstanceRecord, any Error>] = []
        func add(_ end: Result<InstanceRecord, any Error>) { lock.lock(); list.append(end); lock.unlock() }
        var all: [Result<InstanceRecord, any Error>] { lock.lock(); defer { lock.unlock() }; return list }
        var records: [InstanceRecord] { all.compactMap { try? $0.get() } }
    }

    /// `Pay` is deferred (kept in `pending`); `Reserve`, `Release` and `Refund` answer at once.
    func makeEngine(clock: ManualClock = ManualClock(), store: InMemoryInstanceStore = InMemoryInstanceStore())
        throws -> (SagaEngine, Workflow, Pending, EngineTests.Calls) {
        let engine = SagaEngine(store: store, clock: clock, owner: LeaseOwner(host: "test", pid: 1, nonce: "d"))
        let workflow = try #require(WorkflowPipeline.compile(text: Self.yaml, path: "deferred.yaml").workflow)
        engine.register(workflow, source: Self.yaml)
        let pending = Pending()
        let calls = EngineTests.Calls()
        engine.localActions.register(service: "shop") { call in
            calls.add(call)
            return ["id": "r1"]
        }
        engine.localActions.registerDeferred(service: "shop", method: "pay") { call, completion in
            calls.add(call)
            pending.add(call, completion)
        }
        return (engine, workflow, pending, calls)
    }

    /// `EngineTests.yaml` without Pay's deadline: a call with one is raced in a task.
    static let yaml = EngineTests.yaml.replacingOccurrences(of: "    TimeoutSeconds: 5\n", with: "")

    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        try await EngineTests().eventually(what, condition)
    }

    @Test("The lease renewal extends a waiting instance's lease, outlives its last instance until it wakes, then ends")
    func leaseRenewalLoop() async throws {
        let clock = ManualClock()
        let (engine, workflow, pending, _) = try makeEngine(clock: clock)
        let started = clock.now()
        let ends = Ends()
        let id = try await engine.start(workflow, input: [:], instanceID: "lease-1") { ends.add($0) }
        #expect(try await engine.store.instance(id: id)?.leaseExpiresAt == started.addingTimeInterval(30))
        // The loop is the only sleeper: it renews every third of the 30-second lease.
        try await eventually("the renewal loop sleeps") { clock.sleeperCount == 1 }
        clock.advance(by: 10)
        try await eventually("the lease is renewed from the new time") {
            try await engine.store.instance(id: id)?.leaseExpiresAt == started.addingTimeInterval(40)
        }
        try await eventually("the loop sleeps again") { clock.sleeperCount == 1 }

        #expect(try #require(pending.first("Pay")).succeed(["paid": true]))
        try await eventually("the instance ends") { !ends.all.isEmpty }
        #expect(ends.records.first?.status == .succeeded)
        // Nothing is driven now, but the loop is not cancelled: it ends when it next wakes.
        #expect(clock.sleeperCount == 1)
        clock.advance(by: 10)
        try await eventually("the loop ends") { clock.sleeperCount == 0 }

        // The next instance starts a new loop, which renews its lease.
        let next = try await engine.start(workflow, input: [:], instanceID: "lease-2") { ends.add($0) }
        try await eventually("a new loop sleeps") { clock.sleeperCount == 1 }
        clock.advance(by: 10)
        try await eventually("the new instance's lease is renewed") {
            try await engine.store.instance(id: next)?.leaseExpiresAt == started.addingTimeInterval(60)
        }
    }

    @Test("start returns while the deferred call waits; completing it finishes the instance and reports its end once")
    func startParksThenFinishes() async throws {
        #expect(!Self.yaml.contains("TimeoutSeconds"))
        let (engine, workflow, pending, calls) = try makeEngine()
        let ends = Ends()
        let id = try await engine.start(workflow, input: ["order": 1], instanceID: "d-1") { ends.add($0) }
        #expect(id == "d-1")
        // Parked: Pay's intent is durable, the instance is running and still held by this engine.
        let parked = try #require(try await engine.store.instance(id: id))
        #expect(parked.status == .running)
        #expect(try await engine.store.steps(of: id).map(\.stateName) == ["Reserve", "Pay"])
        #expect(engine.isDriving(id))
        #expect(ends.all.isEmpty)
        let pay = try #require(pending.first("Pay"))
        #expect(pending.all.first?.call.idempotencyKey.isEmpty == false)

        #expect(pay.succeed(["paid": true]))
        try await eventually("the instance ends") { !ends.all.isEmpty }
        let record = try #require(ends.records.first)
        #expect(record.status == .succeeded)
        #expect(try await engine.store.instance(id: id)?.status == .succeeded)
        #expect(!engine.isDriving(id))
        // A second completion changes nothing and says so.
        #expect(!pay.succeed(["paid": false]))
        #expect(!pay.fail(ActionFailure(ErrorName("Late"), "late")))
        try await Task.sleep(nanoseconds: 20_000_000)
        #expect(ends.all.count == 1)
        #expect(calls.all.map(\.stateName) == ["Reserve", "Pay"])
    }

    @Test("A service bound with Type: local waits without a task too (its binding names the registered actions)")
    func localBindingParks() async throws {
        let (engine, workflow, pending, _) = try makeEngine()
        engine.setServiceBindings(["shop": ServiceBinding(name: "shop", kind: .local)])
        let ends = Ends()
        let id = try await engine.start(workflow, input: [:], instanceID: "d-6") { ends.add($0) }
        #expect(try await engine.store.instance(id: id)?.status == .running)
        #expect(ends.all.isEmpty)
        let pay = try #require(pending.first("Pay"))
        pay.succeed([:])
        try await eventually("the instance ends") { !ends.all.isEmpty }
        #expect(ends.records.first?.status == .succeeded)
    }

    @Test("A deferred failure is caught like any other: the instance compensates in reverse order")
    func deferredFailureCompensates() async throws {
        let (engine, workflow, pending, calls) = try makeEngine()
        let ends = Ends()
        let id = try await engine.start(workflow, input: [:], instanceID: "d-2") { ends.add($0) }
        let pay = try #require(pending.first("Pay"))
        pay.fail(ActionFailure(ErrorName("ActionError.CardDeclined"), "declined"))
        try await eventually("the instance ends") { !ends.all.isEmpty }
        #expect(ends.records.first?.status == .compensated)
        let step = try await engine.store.steps(of: id).first { $0.stateName == "Pay" }
        #expect(step?.failure?.name == "ActionError.CardDeclined")
        // As with an awaited call: the failed Pay's outcome is uncertain, so Refund runs, then Release.
        #expect(calls.all.map(\.stateName) == ["Reserve", "Pay", "Refund", "Release"])
    }

    @Test("An action that completes before it returns continues the instance too")
    func completedInsideTheAction() async throws {
        let engine = SagaEngine(store: InMemoryInstanceStore(), clock: ManualClock())
        let workflow = try #require(WorkflowPipeline.compile(text: Self.yaml, path: "deferred.yaml").workflow)
        engine.register(workflow, source: Self.yaml)
        engine.localActions.registerDeferred(service: "shop") { _, completion in completion.succeed(["id": "now"]) }
        let ends = Ends()
        try await engine.start(workflow, input: [:], instanceID: "d-3") { ends.add($0) }
        try await eventually("the instance ends") { !ends.all.isEmpty }
        #expect(ends.records.first?.status == .succeeded)
        #expect(ends.records.first?.context["reservation"] == "now")
    }

    @Test("A deferred action under run is awaited in the caller's task, and a deadline still cancels it with Timeout")
    func awaitedDeferredWithDeadline() async throws {
        let clock = ManualClock()
        let engine = SagaEngine(store: InMemoryInstanceStore(), clock: clock)
        let workflow = try #require(WorkflowPipeline.compile(text: EngineTests.yaml, path: "engine.yaml").workflow)
        engine.register(workflow, source: EngineTests.yaml)
        let pending = Pending()
        engine.localActions.registerDeferred(service: "shop") { call, completion in
            if call.stateName == "Pay" { pending.add(call, completion) } else { completion.succeed(["id": "r1"]) }
        }
        let run = Task { try await engine.run(workflow, input: [:], instanceID: "d-4") }
        try await eventually("Pay is called") { pending.first("Pay") != nil }
        try await eventually("the deadline timer waits") { clock.sleeperCount >= 2 }
        clock.advance(by: 5)
        let record = try await run.value
        #expect(record.status == .compensated)
        let pay = try await engine.store.steps(of: "d-4").first { $0.stateName == "Pay" }
        #expect(pay?.failure?.name == "Timeout")
        // The deadline completed the call first: the late answer is refused.
        #expect(pending.first("Pay")?.isCompleted == true)
        #expect(pending.first("Pay")?.succeed(["paid": true]) == false)
    }

    @Test("start with a business key that exists reports the existing instance at once and runs nothing")
    func startExistingBusinessKey() async throws {
        let (engine, workflow, pending, calls) = try makeEngine()
        let first = Ends()
        let id = try await engine.start(workflow, input: [:], businessKey: "order-7") { first.add($0) }
        pending.first("Pay")?.succeed(.null)
        try await eventually("the first instance ends") { !first.all.isEmpty }
        let again = Ends()
        let second = try await engine.start(workflow, input: [:], businessKey: "order-7") { again.add($0) }
        #expect(second == id)
        #expect(again.records.map(\.id) == [id])
        #expect(calls.all.count == 2)
    }

    @Test("A store failure while a resumed instance is driven is reported to onFinish, not lost")
    func resumedFailureIsReported() async throws {
        let store = InMemoryInstanceStore()
        let clock = ManualClock()
        let (engine, workflow, pending, _) = try makeEngine(clock: clock, store: store)
        let ends = Ends()
        try await engine.start(workflow, input: [:], instanceID: "d-6") { ends.add($0) }
        // Another executor takes the instance over while Pay is out: the lease lapsed.
        clock.advance(by: 31)
        let thief = LeaseOwner(host: "other", pid: 2, nonce: "t")
        #expect(try await store.acquire("d-6", owner: thief, now: clock.now(),
                                        leaseUntil: clock.now().addingTimeInterval(30), deadOwners: []) != nil)
        pending.first("Pay")?.succeed(.null)
        try await eventually("the end is reported") { !ends.all.isEmpty }
        guard case .failure(let error) = try #require(ends.all.first) else {
            Issue.record("expected the lost lease to be reported, got \(ends.all)")
            return
        }
        #expect(error is StoreError)
        #expect(!engine.isDriving("d-6"))
        #expect(await store.instance(id: "d-6")?.leaseOwner == thief)
    }

    @Test("Five hundred instances wait at once with no task each and finish in whatever order they are answered")
    func manyParkedInstances() async throws {
        let (engine, workflow, pending, _) = try makeEngine()
        let ends = Ends()
        for n in 0..<500 {
            try await engine.start(workflow, input: ["order": .int(n)], instanceID: InstanceID("m-\(n)")) { ends.add($0) }
        }
        #expect(pending.all.count == 500)
        #expect(ends.all.isEmpty)
        #expect(try await engine.store.countByStatus()[.running] == 500)
        for (index, waiting) in pending.all.shuffled().enumerated() {
            if index % 5 == 0 {
                waiting.completion.fail(ActionFailure(ErrorName("ActionError.CardDeclined"), "declined"))
            } else {
                waiting.completion.succeed(.null)
            }
        }
        try await eventually("every instance ends") { ends.all.count == 500 }
        let counts = try await engine.store.countByStatus()
        #expect(counts[.succeeded] == 400)
        #expect(counts[.compensated] == 100)
        #expect(Set(ends.records.map(\.id)).count == 500)
    }
}

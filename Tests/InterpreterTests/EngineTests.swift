import Foundation
import Testing
@testable import Interpreter
import StateLang

/// The executor (`SagaEngine`) with the in-memory store, local actions and a manual clock:
/// no sleeps, no I/O.
@Suite("Engine executor")
struct EngineTests {
    static let yaml = """
        Name: engine
        StartState: Reserve
        States:
          Reserve:
            Type: ServiceTask
            ServiceName: shop
            ServiceMethod: reserve
            CompensateState: Release
            Output: { reservation: "$.[id]" }
            Retry: [{ Exceptions: [HTTP.5xx], IntervalSeconds: 30, MaxAttempts: 2 }]
            Catch: [{ Exceptions: [Throwable], Next: Rollback }]
            Next: Pay
          Pay:
            Type: ServiceTask
            ServiceName: shop
            ServiceMethod: pay
            CompensateState: Refund
            TimeoutSeconds: 5
            Catch: [{ Exceptions: [Throwable], Next: Rollback }]
            Next: Done
          Done: { Type: Succeed }
          Rollback: { Type: CompensationTrigger, Next: Failed }
          Failed: { Type: Fail }
          Release: { Type: ServiceTask, ServiceName: shop, ServiceMethod: release, Input: [{ id: "$.[reservation]" }] }
          Refund: { Type: ServiceTask, ServiceName: shop, ServiceMethod: refund }
        """

    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Invocation] = []
        func add(_ call: Invocation) { lock.lock(); list.append(call); lock.unlock() }
        var all: [Invocation] { lock.lock(); defer { lock.unlock() }; return list }
    }

    func makeEngine(clock: ManualClock = ManualClock(), owner: LeaseOwner = LeaseOwner(host: "test", pid: 1, nonce: "a"),
                    store: InMemoryInstanceStore = InMemoryInstanceStore(),
                    behaviour: @escaping @Sendable (Invocation) async throws -> JSONValue = { _ in ["id": "r1"] })
        throws -> (SagaEngine, Workflow, Calls) {
        let engine = SagaEngine(store: store, clock: clock, owner: owner)
        let result = WorkflowPipeline.compile(text: Self.yaml, path: "engine.yaml")
        let workflow = try #require(result.workflow)
        engine.register(workflow, source: Self.yaml)
        let calls = Calls()
        engine.localActions.register(service: "shop") { call in
            calls.add(call)
            return try await behaviour(call)
        }
        return (engine, workflow, calls)
    }

    /// Polls `condition` until it holds or a 120-second wall-clock deadline passes (only a hang
    /// should reach it: on a loaded 2-core machine other tests can hold both threads for seconds).
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(120)
        while try await !condition() {
            if Date() > deadline {
                Issue.record("timed out waiting for: \(what)")
                return
            }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
    }

    @Test("A run persists every step with its output, and the context flows")
    func runPersists() async throws {
        let (engine, workflow, calls) = try makeEngine()
        let record = try await engine.run(workflow, input: ["order": 1])
        #expect(record.status == .succeeded)
        let steps = try await engine.store.steps(of: record.id)
        #expect(steps.map(\.stateName) == ["Reserve", "Pay"])
        #expect(steps.allSatisfy { $0.status == .succeeded && $0.endedAt != nil })
        // Each row names the executor that made it.
        #expect(steps.allSatisfy { $0.executor == engine.owner })
        #expect(try await engine.store.instance(id: record.id)?.context["reservation"] == "r1")
        #expect(calls.all.map(\.idempotencyKey) == ["\(record.id):1", "\(record.id):2"])
        // A finished instance's lease is released.
        let stored = try #require(try await engine.store.instance(id: record.id))
        #expect(stored.leaseExpiresAt == stored.updatedAt)
    }

    @Test("A retry waits for its stored due time on the clock, then calls again with the same key")
    func durableRetryThroughTheExecutor() async throws {
        let clock = ManualClock()
        let failures = Locked(1)
        let (engine, workflow, calls) = try makeEngine(clock: clock) { call in
            if call.stateName == "Reserve", failures.withLock({ n in defer { n -= 1 }; return n > 0 }) {
                throw ActionFailure(.http5xx, "503")
            }
            return ["id": "r1"]
        }
        let id = "retry-1"
        let run = Task { try await engine.run(workflow, input: [:], instanceID: id) }
        try await eventually("the retry is scheduled") { try await engine.store.instance(id: id)?.wakeAt != nil }
        let due = try #require(try await engine.store.instance(id: id)?.wakeAt)
        #expect(due == clock.now().addingTimeInterval(30))
        #expect(calls.all.count == 1)
        clock.advance(by: 30)
        let record = try await run.value
        #expect(record.status == .succeeded)
        #expect(calls.all.filter { $0.stateName == "Reserve" }.map(\.attempt) == [1, 2])
        #expect(Set(calls.all.filter { $0.stateName == "Reserve" }.map(\.idempotencyKey)).count == 1)
        #expect(try await engine.store.instance(id: id)?.wakeAt == nil)
    }

    struct OutOfStock: Error, CustomStringConvertible {
        var description: String { "product 7 is sold out" }
    }

    @Test("A local action's own error is ActionError.<its type name> with its description; an ActionFailure keeps its name")
    func localActionErrors() async throws {
        let (engine, workflow, _) = try makeEngine { call in
            if call.stateName == "Reserve" { throw OutOfStock() }
            return .null
        }
        let record = try await engine.run(workflow, input: [:], instanceID: "local-errors-1")
        #expect(record.status == .compensated)
        let reserve = try #require(try await engine.store.steps(of: record.id).first { $0.stateName == "Reserve" })
        #expect(reserve.failure?.name == "ActionError.OutOfStock")
        #expect(reserve.failure?.message == "product 7 is sold out")

        let (declining, declined, _) = try makeEngine { call in
            if call.stateName == "Pay" { throw ActionFailure(ErrorName("ActionError.CardDeclined"), "declined") }
            return ["id": "r1"]
        }
        let paid = try await declining.run(declined, input: [:], instanceID: "local-errors-2")
        let pay = try #require(try await declining.store.steps(of: paid.id).first { $0.stateName == "Pay" })
        #expect(pay.failure?.name == "ActionError.CardDeclined")
        #expect(pay.failure?.message == "declined")
    }

    @Test("TimeoutSeconds cancels a call past its deadline: the error is Timeout and Catch routes it")
    func timeout() async throws {
        let clock = ManualClock()
        let (engine, workflow, calls) = try makeEngine(clock: clock) { call in
            if call.stateName == "Pay" {
                try await Task.sleep(nanoseconds: 3_600_000_000_000)  // cancelled by the deadline
            }
            return ["id": "r1"]
        }
        let run = Task { try await engine.run(workflow, input: [:], instanceID: "t-1") }
        try await eventually("Pay is called") { calls.all.contains { $0.stateName == "Pay" } }
        try await eventually("the deadline timer waits") { clock.sleeperCount >= 2 }
        clock.advance(by: 5)
        let record = try await run.value
        #expect(record.status == .compensated)
        let pay = try await engine.store.steps(of: "t-1").first { $0.stateName == "Pay" }
        #expect(pay?.failure?.name == "Timeout")
        #expect(calls.all.map(\.stateName).suffix(2) == ["Refund", "Release"])
    }

    @Test("Starting with a business key that exists returns the existing instance without running")
    func businessKey() async throws {
        let (engine, workflow, calls) = try makeEngine()
        let first = try await engine.run(workflow, input: [:], businessKey: "order-9")
        let second = try await engine.run(workflow, input: [:], businessKey: "order-9")
        #expect(first.id == second.id)
        #expect(calls.all.count == 2)
    }

    @Test("An executor that lost its lease stops at its next checkpoint")
    func leaseLost() async throws {
        let store = InMemoryInstanceStore()
        let clock = ManualClock()
        let gate = Locked(false)
        let (engine, workflow, _) = try makeEngine(clock: clock, store: store) { call in
            if call.stateName == "Pay" {
                while !gate.withLock({ $0 }) { try await Task.sleep(nanoseconds: 1_000_000) }
            }
            return ["id": "r1"]
        }
        let run = Task { try await engine.run(workflow, input: [:], instanceID: "l-1") }
        let thief = LeaseOwner(host: "other", pid: 2, nonce: "b")
        try await eventually("Pay is in flight") { await store.steps(of: "l-1").contains { $0.stateName == "Pay" } }
        // The lease runs out (30 s) and another executor takes the instance over.
        clock.advance(by: 31)
        let taken = try await store.acquire("l-1", owner: thief, now: clock.now(), leaseUntil: clock.now().addingTimeInterval(30),
                                            deadOwners: [])
        #expect(taken != nil)
        gate.withLock { $0 = true }
        await #expect(throws: StoreError.self) { _ = try await run.value }
        #expect(await store.instance(id: "l-1")?.leaseOwner == thief)
    }

    @Test("recover finishes an instance whose owner process on this host is gone")
    func recoverDeadOwner() async throws {
        let store = InMemoryInstanceStore()
        let clock = ManualClock()
        let host = ProcessInfo.processInfo.hostName
        // A process id that cannot be alive: above the kernel's pid limit.
        let dead = LeaseOwner(host: host, pid: 4_194_999, nonce: "dead")
        let (crashed, workflow, _) = try makeEngine(clock: clock, owner: dead, store: store) { call in
            if call.stateName == "Pay" { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
            return ["id": "r1"]
        }
        let abandoned = Task { try await crashed.run(workflow, input: [:], instanceID: "d-1") }
        try await eventually("Pay is in flight") { await store.steps(of: "d-1").contains { $0.stateName == "Pay" } }
        abandoned.cancel()  // the process "dies": its lease stays in the store
        _ = try? await abandoned.value
        let before = try #require(await store.instance(id: "d-1"))
        #expect(before.leaseOwner == dead)

        let (survivor, _, calls) = try makeEngine(clock: clock, owner: LeaseOwner(host: host, pid: getpid(), nonce: "s"), store: store)
        survivor.register(workflow, source: Self.yaml)
        let report = try await survivor.recover()
        #expect(report.resumed.map(\.id) == ["d-1"])
        #expect(report.resumed.first?.status == .succeeded)
        // Pay is called again with the key it had.
        let payKey = await store.steps(of: "d-1").first { $0.stateName == "Pay" }?.idempotencyKey
        #expect(calls.all.map(\.stateName) == ["Pay"])
        #expect(calls.all.first?.idempotencyKey == payKey)
    }

    /// An engine on `store` with each of `yamls` compiled and registered (a parent and the
    /// machines it calls), and the workflows in the same order.
    func engine(store: InMemoryInstanceStore, registering yamls: [String]) throws -> (SagaEngine, [Workflow]) {
        let engine = SagaEngine(store: store, clock: ManualClock())
        var workflows: [Workflow] = []
        for (i, yaml) in yamls.enumerated() {
            let workflow = try #require(WorkflowPipeline.compile(text: yaml, path: "w\(i).yaml").workflow)
            engine.register(workflow, source: yaml)
            workflows.append(workflow)
        }
        return (engine, workflows)
    }

    @Test("A SubStateMachine creates a linked child instance")
    func subMachine() async throws {
        let parentYAML = """
            Name: parent
            StartState: Child
            States:
              Child: { Type: SubStateMachine, StateMachineName: child, Input: [{ n: "$.[n]" }], Output: { got: "$.[v]" }, Next: Done }
              Done: { Type: Succeed }
            """
        let childYAML = """
            Name: child
            StartState: Work
            States:
              Work: { Type: ServiceTask, ServiceName: shop, ServiceMethod: work, Input: ["$.[n]"], Output: { v: "$.#root" }, Next: End }
              End: { Type: Succeed }
            """
        let store = InMemoryInstanceStore()
        let (engine, workflows) = try engine(store: store, registering: [parentYAML, childYAML])
        let parent = workflows[0]
        engine.localActions.register(service: "shop") { call in .int((call.input.doubleValue.map { Int($0) } ?? 0) * 10) }
        let record = try await engine.run(parent, input: ["n": 4])
        #expect(record.status == .succeeded)
        #expect(record.context["got"] == 40)
        let children = await store.listInstances(InstanceQuery(parentID: record.id))
        #expect(children.count == 1)
        #expect(children.first?.workflowName == "child")
        #expect(children.first?.status == .succeeded)
    }

    // Without the guard the instances would nest without end: the time limit makes that a failure.
    @Test("A SubStateMachine cycle through two files fails the step that would close it, and the parent compensates",
          .timeLimit(.minutes(1)))
    func subMachineCycleAcrossFiles() async throws {
        let aYAML = """
            Name: a
            StartState: Reserve
            States:
              Reserve: { Type: ServiceTask, ServiceName: shop, ServiceMethod: reserve, CompensateState: Release, Next: CallB }
              Release: { Type: ServiceTask, ServiceName: shop, ServiceMethod: release }
              CallB:
                Type: SubStateMachine
                StateMachineName: b
                Catch: [{ Exceptions: [Throwable], Next: Undo }]
                Next: Done
              Undo: { Type: CompensationTrigger, Next: Failed }
              Failed: { Type: Fail, ErrorCode: ChildFailed }
              Done: { Type: Succeed }
            """
        let bYAML = """
            Name: b
            StartState: CallA
            States:
              CallA: { Type: SubStateMachine, StateMachineName: a, Next: Done }
              Done: { Type: Succeed }
            """
        let store = InMemoryInstanceStore()
        let (engine, workflows) = try engine(store: store, registering: [aYAML, bYAML])
        let a = workflows[0]
        let calls = Calls()
        engine.localActions.register(service: "shop") { call in
            calls.add(call)
            return ["ok": true]
        }
        let record = try await engine.run(a, input: [:], instanceID: "cycle-a")
        // a → b ran; b's call of a was refused, so b failed, a's CallB failed and a compensated.
        #expect(record.status == .compensated)
        #expect(calls.all.map(\.stateName) == ["Reserve", "Release"])
        let all = await store.listInstances(InstanceQuery())
        #expect(all.count == 2)
        let child = try #require(all.first { $0.workflowName == "b" })
        #expect(child.parentID == "cycle-a")
        #expect(child.failure?.name == "SubMachineFailed")
        let refused = try #require(try await store.steps(of: child.id).first { $0.stateName == "CallA" })
        #expect(refused.status == .failed)
        #expect(refused.failure?.message.contains("SubMachineCycle: not started: 'a' already runs above this instance (a → b → a)") == true)
    }
}

import Foundation
import Testing
@testable import Interpreter
import StateLang

@Suite("Retry, catch and recovery (DESIGN §3.4, reference §6.2)")
struct RetryTests {
    static let retrying = """
        Name: r
        StartState: Call
        States:
          Call:
            Type: ServiceTask
            ServiceName: s
            ServiceMethod: call
            CompensateState: Undo
            Retry:
              - Exceptions: [HTTP.5xx]
                IntervalSeconds: 2
                BackoffRate: 3
                MaxAttempts: 4
                MaxDelaySeconds: 30
              - IntervalSeconds: 1
                MaxAttempts: 1
            Catch:
              - Exceptions: [Throwable]
                Next: Failed
            Next: Done
          Done: { Type: Succeed }
          Failed: { Type: Fail }
          Undo: { Type: ServiceTask, ServiceName: s, ServiceMethod: undo }
        """

    @Test("Backoff is geometric and capped: 2, 6, 18, 30 s; MaxAttempts counts retries")
    func geometricBackoff() throws {
        var h = MachineHarness(try compileWorkflow(Self.retrying))
        h.fail("Call", "HTTP.5xx", times: 5)
        h.run()
        #expect(h.calls.count == 5)
        #expect(h.waits.count == 4)
        #expect(h.delays.map { $0.rounded() } == [2, 6, 18, 30])
        #expect(h.calls.map(\.attempt) == [1, 2, 3, 4, 5])
        // All attempts share one idempotency key.
        #expect(Set(h.calls.map(\.idempotencyKey)) == ["i1:1"])
        #expect(h.lastRow("Call")?.status == .unknown)
    }

    @Test("Full jitter draws the delay in [0, backoff]")
    func fullJitter() {
        let policy = RetryPolicy(exceptions: [], intervalSeconds: 4, maxAttempts: 3, backoffRate: 2, jitter: .full)
        #expect(policy.delay(beforeRetry: 2, unitRandom: 0.25) == 2)
        #expect(policy.delay(beforeRetry: 2, unitRandom: 0) == 0)
        #expect(RetryPolicy(intervalSeconds: 4, backoffRate: 2).delay(beforeRetry: 3, unitRandom: 0.9) == 16)
    }

    @Test("A Retry entry without Exceptions matches network errors only")
    func defaultRetryMatchesNetworkErrors() throws {
        var network = MachineHarness(try compileWorkflow(Self.retrying))
        network.fail("Call", "Timeout")
        network.run()
        #expect(network.callOrder == ["Call", "Call"])
        #expect(network.status == .succeeded)

        var business = MachineHarness(try compileWorkflow(Self.retrying))
        business.fail("Call", "ActionError.Declined")
        business.run()
        #expect(business.callOrder == ["Call"])
    }

    @Test("The retry wait is durable: a restarted executor waits for the stored due time, not a new one")
    func durableRetryWait() throws {
        let workflow = try compileWorkflow(Self.retrying)
        var h = MachineHarness(workflow)
        h.fail("Call", "HTTP.5xx")
        var decision = h.machine.handle(.start, now: h.now)
        decision = h.machine.handle(.actionCompleted(.failure(ActionFailure(.http5xx, "503"))), now: h.now)
        guard case .wait(let due) = decision.action, let transition = decision.transition else {
            Issue.record("expected a wait, got \(decision.action)")
            return
        }
        #expect(transition.instance.wakeAt == due)
        // The process dies; one second later another executor loads what was persisted.
        let steps = h.machine.steps
        var restarted = try InstanceMachine(workflow: workflow, instance: transition.instance, steps: steps,
                                            now: h.now.addingTimeInterval(1))
        let resumed = restarted.handle(.resume, now: h.now.addingTimeInterval(1))
        guard case .wait(let again) = resumed.action else { Issue.record("expected the same wait"); return }
        #expect(again == due)
        let retried = restarted.handle(.retryDue, now: due)
        guard case .invoke(let call) = retried.action else { Issue.record("expected a call"); return }
        #expect(call.attempt == 2)
        #expect(call.idempotencyKey == "i1:1")
    }

    @Test("Catch routes by the first entry whose Exceptions match")
    func catchRouting() throws {
        let yaml = """
            Name: c
            StartState: Pay
            States:
              Pay:
                Type: ServiceTask
                ServiceName: s
                ServiceMethod: pay
                Catch:
                  - Exceptions: [ActionError.InsufficientFunds]
                    Next: NoMoney
                  - Exceptions: [java.lang.Exception]
                    Next: Other
                Next: Done
              Done: { Type: Succeed }
              NoMoney: { Type: Fail, ErrorCode: NO_MONEY }
              Other: { Type: Fail, ErrorCode: OTHER }
            """
        var poor = MachineHarness(try compileWorkflow(yaml))
        poor.fail("Pay", "ActionError.InsufficientFunds")
        poor.run()
        #expect(poor.machine.instance.context["_statemachine_error_code_"] == "NO_MONEY")

        var broken = MachineHarness(try compileWorkflow(yaml))
        broken.fail("Pay", "Timeout")
        broken.run()
        #expect(broken.machine.instance.context["_statemachine_error_code_"] == "OTHER")
    }

    @Test("An interrupted call is made again with the same idempotency key on resume")
    func resumeInterruptedCall() throws {
        let workflow = try compileWorkflow(sagaYAML)
        var h = MachineHarness(workflow)
        var decision = h.machine.handle(.start, now: h.now)
        decision = h.machine.handle(.actionCompleted(.success([:])), now: h.now)
        guard case .invoke(let inFlight) = decision.action, let persisted = decision.transition else {
            Issue.record("expected B in flight")
            return
        }
        #expect(inFlight.stateName == "B")
        // Crash: rebuild from what was persisted (A done, B's intent written).
        var steps = h.machine.steps
        steps = steps.map { row in persisted.steps.first { $0.seq == row.seq } ?? row }
        var recovered = MachineHarness(workflow)
        recovered.machine = try InstanceMachine(workflow: workflow, instance: persisted.instance, steps: steps, now: h.now)
        recovered.run(.resume)
        #expect(recovered.callOrder == ["B", "C", "D", "E"])
        #expect(recovered.calls.first?.idempotencyKey == inFlight.idempotencyKey)
        #expect(recovered.status == .succeeded)
        #expect(recovered.rows("B").map(\.status) == [.unknown, .succeeded])
    }

    @Test("Each row names the executor that made it; the interrupted row keeps its own")
    func rowsNameTheirExecutor() throws {
        let workflow = try compileWorkflow(sagaYAML)
        let first = LeaseOwner(host: "h", pid: 1, nonce: "first")
        let second = LeaseOwner(host: "h", pid: 2, nonce: "second")
        var h = MachineHarness(workflow)
        h.machine.setLease(owner: first, expiresAt: h.now.addingTimeInterval(30))
        _ = h.machine.handle(.start, now: h.now)
        let inFlight = h.machine.handle(.actionCompleted(.success([:])), now: h.now)
        let persisted = try #require(inFlight.transition)
        #expect(h.machine.steps.map(\.executor) == [first, first])
        // The first executor dies with B in flight; the second takes the instance over.
        var recovered = MachineHarness(workflow)
        recovered.machine = try InstanceMachine(workflow: workflow, instance: persisted.instance, steps: h.machine.steps, now: h.now)
        recovered.machine.setLease(owner: second, expiresAt: h.now.addingTimeInterval(30))
        recovered.run(.resume)
        let rows = recovered.machine.steps
        #expect(rows.first { $0.failure?.name == "Interrupted" }?.executor == first)
        #expect(rows.filter { $0.seq > 2 }.allSatisfy { $0.executor == second })
        #expect(rows.map(\.executor).first == first)
    }

    @Test("forward re-runs the last failed state with its key; a succeeded one continues with Next")
    func forwardRecovery() throws {
        let yaml = """
            Name: f
            StartState: Debit
            RecoverStrategy: Forward
            States:
              Debit: { Type: ServiceTask, ServiceName: s, ServiceMethod: debit, CompensateState: Undo, Next: Credit }
              Credit: { Type: ServiceTask, ServiceName: s, ServiceMethod: credit, IsForUpdate: true, CompensateState: Undo, Next: Done }
              Done: { Type: Succeed }
              Undo: { Type: ServiceTask, ServiceName: s, ServiceMethod: undo }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("Credit", "Timeout")
        h.run()
        #expect(h.status == .unknown)
        let key = h.calls.last!.idempotencyKey
        h.calls = []
        h.run(.forward)
        #expect(h.callOrder == ["Credit"])
        #expect(h.calls.first?.idempotencyKey == key)
        #expect(h.status == .succeeded)
    }

    @Test("skip marks a failed state skipped and continues with its Next")
    func skipForward() throws {
        let yaml = """
            Name: k
            StartState: A
            States:
              A: { Type: ServiceTask, ServiceName: s, ServiceMethod: a, Next: B }
              B: { Type: ServiceTask, ServiceName: s, ServiceMethod: b, Next: Done }
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("A", "ActionError.Broken")
        h.run()
        #expect(h.status == .failed)
        h.calls = []
        h.run(.skip(state: "A"))
        #expect(h.callOrder == ["B"])
        #expect(h.status == .succeeded)
        #expect(h.lastRow("A")?.status == .skipped)
    }

    @Test("A ScriptTask with ScriptType expression runs inline and feeds Output")
    func scriptTask() throws {
        let yaml = """
            Name: sc
            StartState: Total
            States:
              Total:
                Type: ScriptTask
                ScriptType: expression
                ScriptContent: "[price] * [quantity]"
                Input: [{ price: "$.[price]", quantity: "$.[qty]" }]
                Output: { total: "$.#root" }
                Next: Done
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml), input: ["price": 3, "qty": 4])
        h.run()
        #expect(h.machine.instance.context["total"] == 12)
        #expect(h.status == .succeeded)
        #expect(h.calls.isEmpty)
    }
}

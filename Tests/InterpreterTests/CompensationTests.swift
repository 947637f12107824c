import Foundation
import Testing
@testable import Interpreter
import StateLang

/// Reference §6.3 and DESIGN §3.4: backward recovery.
@Suite("Compensation (reference §6.3)")
struct CompensationTests {
    @Test("Failure at each step compensates the steps before it in strict reverse order", arguments: ["A", "B", "C", "D", "E"])
    func reverseOrder(failing state: String) throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail(state, "ActionError.Broken")
        h.run()
        let forward = ["A", "B", "C", "D", "E"]
        let index = forward.firstIndex(of: state)!
        // The failed state is a non-update? No: every state has CompensateState, so its error is
        // UN and it is compensated too (UN states are compensated, FA ones are not).
        let undone = forward[...index].reversed().map { "Undo" + $0 }
        #expect(h.callOrder == Array(forward[...index]) + undone)
        #expect(h.status == .compensated)
        #expect(h.machine.instance.context["_statemachine_error_code_"] == "SAGA_FAILED")
    }

    @Test("FA states are not compensated; SU and UN ones are")
    func faNotCompensated() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        // ConnectionRefused on an update state is FA: the call never reached the service.
        h.fail("C", "ConnectionRefused")
        h.run()
        #expect(h.lastRow("C")?.status == .failed)
        #expect(h.callOrder == ["A", "B", "C", "UndoB", "UndoA"])
        #expect(h.status == .compensated)
    }

    @Test("A step is compensated when any attempt may have had an effect, though its last attempt was FA")
    func earlierUnknownAttemptIsCompensated() throws {
        // Found by the chaos run: ReserveStock's first call was cut off by a crash (UN; the
        // shop had reserved), the retries met an outage (ConnectionRefused, FA), and the
        // rollback skipped ReleaseStock because only the last attempt was looked at. Here the
        // first attempt's reply is lost (NetworkError: the service may have served it).
        let yaml = sagaYAML.replacingOccurrences(
            of: "C: { Type: ServiceTask, ServiceName: s, ServiceMethod: c, CompensateState: UndoC, Next: D,",
            with: "C: { Type: ServiceTask, ServiceName: s, ServiceMethod: c, CompensateState: UndoC, Next: D, "
                + "Retry: [{ Exceptions: [Throwable], MaxAttempts: 2, IntervalSeconds: 1 }],")
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("C", "NetworkError")
        h.fail("C", "ConnectionRefused", times: 2)
        h.run()
        #expect(h.rows("C").map(\.failure?.name) == ["NetworkError", "ConnectionRefused", "ConnectionRefused"])
        #expect(h.callOrder == ["A", "B", "C", "C", "C", "UndoC", "UndoB", "UndoA"])
        #expect(h.status == .compensated)

        // Every attempt refused: nothing to undo for C.
        var refused = MachineHarness(try compileWorkflow(yaml))
        refused.fail("C", "ConnectionRefused", times: 3)
        refused.run()
        #expect(refused.callOrder == ["A", "B", "C", "C", "C", "UndoB", "UndoA"])
    }

    @Test("A call interrupted by a crash, then refused on every retry, is still compensated")
    func interruptedThenRefusedIsCompensated() throws {
        // The chaos run's case exactly: worker killed during B's call; on resume B is retried
        // during an outage until its retries run out, and the rollback must undo B too.
        let workflow = try compileWorkflow(sagaYAML.replacingOccurrences(
            of: "B: { Type: ServiceTask, ServiceName: s, ServiceMethod: b, CompensateState: UndoB, Next: C,",
            with: "B: { Type: ServiceTask, ServiceName: s, ServiceMethod: b, CompensateState: UndoB, Next: C, "
                + "Retry: [{ Exceptions: [ConnectionRefused], MaxAttempts: 2, IntervalSeconds: 1 }],"))
        var h = MachineHarness(workflow)
        _ = h.machine.handle(.start, now: h.now)
        let decision = h.machine.handle(.actionCompleted(.success([:])), now: h.now)
        guard case .invoke(let inFlight) = decision.action, let persisted = decision.transition else {
            Issue.record("expected B in flight")
            return
        }
        #expect(inFlight.stateName == "B")
        let steps = h.machine.steps.map { row in persisted.steps.first { $0.seq == row.seq } ?? row }
        var recovered = MachineHarness(workflow)
        recovered.machine = try InstanceMachine(workflow: workflow, instance: persisted.instance, steps: steps, now: h.now)
        recovered.fail("B", "ConnectionRefused", times: 3)
        recovered.run(.resume)
        #expect(recovered.rows("B").map(\.status) == [.unknown, .failed, .failed, .failed])
        #expect(recovered.callOrder == ["B", "B", "B", "UndoB", "UndoA"])
        #expect(recovered.status == .compensated)
    }

    @Test("CircuitOpen means the call was not made: FA, and not compensated")
    func circuitOpenIsNotCompensated() throws {
        // Found by the long chaos run: Pay met an open payments circuit on every attempt (no
        // call made), was recorded UN, so the rollback called Refund — into the same open
        // circuit — and the saga ended needs-intervention instead of compensated.
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("C", "CircuitOpen")
        h.run()
        #expect(h.lastRow("C")?.status == .failed)
        #expect(h.callOrder == ["A", "B", "C", "UndoB", "UndoA"])
        #expect(h.status == .compensated)
    }

    @Test("Compensations have their own idempotency key, distinct from the forward step's")
    func compensationKeys() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("B", "ActionError.Broken")
        h.run()
        let keys = h.calls.map(\.idempotencyKey)
        #expect(Set(keys).count == keys.count)
        #expect(h.calls.first { $0.stateName == "UndoA" }?.idempotencyKey == "i1:c1")
        #expect(h.calls.first { $0.stateName == "A" }?.idempotencyKey == "i1:1")
    }

    @Test("A compensation that still fails after its retries stops the instance in needs-intervention")
    func compensationFailureStops() throws {
        let yaml = sagaYAML.replacingOccurrences(
            of: "UndoB: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoB }",
            with: "UndoB: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoB, Retry: [{ Exceptions: [Throwable], MaxAttempts: 2, IntervalSeconds: 1 }] }")
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("C", "ActionError.Broken")
        h.fail("UndoB", "HTTP.5xx", times: 3)
        h.run()
        // C (UN) was undone, B's undo failed three times (1 call + 2 retries), A was not touched.
        #expect(h.callOrder == ["A", "B", "C", "UndoC", "UndoB", "UndoB", "UndoB"])
        #expect(h.status == .needsIntervention)
        #expect(h.machine.instance.compensationStatus == .unknown)
        #expect(h.machine.instance.failure?.state == "UndoB")
        #expect(h.waits.count == 2)
    }

    @Test("With nothing compensated yet, a stopped compensation has compensation status FA")
    func stoppedBeforeAnyIsFA() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("B", "ConnectionRefused")
        h.fail("UndoA", "ActionError.Broken")
        h.run()
        #expect(h.machine.instance.compensationStatus == .failed)
        #expect(h.status == .needsIntervention)
    }

    @Test("`compensate` again retries the failed compensation first and skips the ones already done")
    func compensateAgain() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("C", "ActionError.Broken")
        h.fail("UndoB", "ActionError.Broken")
        h.run()
        #expect(h.status == .needsIntervention)
        h.calls = []
        h.run(.compensate)
        #expect(h.callOrder == ["UndoB", "UndoA"])
        #expect(h.status == .compensated)
    }

    @Test("`skip` during needs-intervention records a manual fix and compensates the rest")
    func skipCompensation() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("C", "ActionError.Broken")
        h.fail("UndoB", "ActionError.Broken")
        h.run()
        h.calls = []
        h.run(.skip(state: "UndoB"))
        #expect(h.callOrder == ["UndoA"])
        #expect(h.status == .compensated)
        #expect(h.machine.steps.contains { $0.stateName == "UndoB" && $0.status == .skipped })
    }

    @Test("An update state without CompensateState stops compensation (CompensationStateNotFound)")
    func updateWithoutCompensateState() throws {
        let yaml = """
            Name: s
            StartState: A
            States:
              A: { Type: ServiceTask, ServiceName: s, ServiceMethod: a, IsForUpdate: true, Next: B }
              B: { Type: ServiceTask, ServiceName: s, ServiceMethod: b, CompensateState: UndoB, Next: T }
              T: { Type: CompensationTrigger }
              UndoB: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoB }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        #expect(h.machine.instance.failure?.name == "CompensationStateNotFound")
        #expect(h.status == .needsIntervention)
        #expect(h.callOrder == ["A", "B"])
    }

    @Test("A read-only state without CompensateState is skipped by compensation")
    func readOnlySkipped() throws {
        let yaml = """
            Name: s
            StartState: A
            States:
              A: { Type: ServiceTask, ServiceName: s, ServiceMethod: a, CompensateState: UndoA, Next: Read }
              Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: T }
              T: { Type: CompensationTrigger }
              UndoA: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoA }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        #expect(h.callOrder == ["A", "Read", "UndoA"])
        #expect(h.status == .compensated)
    }

    @Test("A trigger with nothing to compensate ends the instance")
    func triggerWithNothing() throws {
        let yaml = """
            Name: s
            StartState: Read
            States:
              Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: T }
              T: { Type: CompensationTrigger }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        #expect(h.status == .compensated)
    }

    @Test("`compensate` on a finished instance rolls it back; on a compensated one it is refused")
    func compensateCommand() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.run()
        #expect(h.status == .succeeded)
        h.calls = []
        h.run(.compensate)
        #expect(h.callOrder == ["UndoE", "UndoD", "UndoC", "UndoB", "UndoA"])
        #expect(h.status == .compensated)
        let again = h.run(.compensate)
        guard case .rejected = again else { Issue.record("expected a refusal, got \(again)"); return }
    }

    @Test("A SubStateMachine is compensated through its child; a child compensated on the way ends the state FA")
    func subMachineCompensation() throws {
        let yaml = """
            Name: parent
            StartState: Child
            States:
              Child: { Type: SubStateMachine, StateMachineName: child, Next: After,
                       Catch: [{ Exceptions: [Throwable], Next: T }] }
              After: { Type: ServiceTask, ServiceName: s, ServiceMethod: after, Next: T }
              T: { Type: CompensationTrigger }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        // The child ran (forward) and was compensated (through the SubStateMachine's row).
        let childRows = h.rows("Child")
        #expect(childRows.map(\.phase) == [.forward, .compensation])
        #expect(h.status == .compensated)

        var failed = MachineHarness(try compileWorkflow(yaml))
        failed.children["child"] = ChildOutcome(instanceID: "c", forwardStatus: .unknown, compensationStatus: .succeeded,
                                                context: [:], failure: FailureRecord(name: "X", message: "y"))
        failed.run()
        #expect(failed.rows("Child").first?.status == .failed)
    }
}

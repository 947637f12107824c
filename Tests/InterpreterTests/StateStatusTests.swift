import Foundation
import Testing
@testable import Interpreter
import StateLang

/// Reference §4.2: the status of one task state.
@Suite("Per-state status (reference §4.2)")
struct StateStatusTests {
    static let statusYAML = """
        Name: status
        StartState: Check
        States:
          Check:
            Type: ServiceTask
            ServiceName: s
            ServiceMethod: check
            IsForUpdate: true
            CompensateState: Undo
            Status:
              "[code] == 'OK'": SU
              "[code] == 'MAYBE'": UN
              "$Exception{ActionError.Declined}": SU
              "[code] != null": FA
            Catch:
              - Exceptions: [Throwable]
                Next: Caught
            Next: Done
          Done: { Type: Succeed }
          Caught: { Type: Fail, ErrorCode: CAUGHT }
          Undo: { Type: ServiceTask, ServiceName: s, ServiceMethod: undo }
        """

    @Test("Status rows are tried in file order; the first true one decides")
    func firstMatchingRowWins() throws {
        var h = MachineHarness(try compileWorkflow(Self.statusYAML))
        h.succeed("Check", ["code": "MAYBE"])
        h.run()
        #expect(h.lastRow("Check")?.status == .unknown)
    }

    @Test("A result no Status row matches fails the instance at once, bypassing Catch")
    func noMatchingRowFailsWithoutCatch() throws {
        var h = MachineHarness(try compileWorkflow(Self.statusYAML))
        h.succeed("Check", [:])
        h.run()
        // An update state gets UN; the instance fails with NoMatchedStatus, Caught is never reached.
        #expect(h.lastRow("Check")?.status == .unknown)
        #expect(h.machine.instance.failure?.name == "NoMatchedStatus")
        #expect(h.machine.instance.context["_statemachine_error_code_"] == nil)
        #expect(h.status == .unknown)
    }

    @Test("A non-update state with no matching Status row gets FA")
    func noMatchNonUpdateIsFA() throws {
        let yaml = """
            Name: s
            StartState: Q
            States:
              Q: { Type: ServiceTask, ServiceName: s, ServiceMethod: q, Status: { "[ok] == true": SU }, Next: Done }
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.succeed("Q", ["ok": false])
        h.run()
        #expect(h.lastRow("Q")?.status == .failed)
        #expect(h.status == .failed)
    }

    @Test("No Status configured and no error: SU")
    func noStatusNoErrorIsSU() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.run()
        #expect(h.machine.steps.allSatisfy { $0.status == .succeeded })
        #expect(h.status == .succeeded)
    }

    @Test("An error on an update state is UN, or FA when the connection was refused")
    func updateStateErrors() throws {
        let yaml = """
            Name: s
            StartState: U
            States:
              U: { Type: ServiceTask, ServiceName: s, ServiceMethod: u, IsForUpdate: true, CompensateState: X, Next: Done }
              Done: { Type: Succeed }
              X: { Type: ServiceTask, ServiceName: s, ServiceMethod: x }
            """
        var timeout = MachineHarness(try compileWorkflow(yaml))
        timeout.fail("U", "ActionError.Broken")
        timeout.run()
        #expect(timeout.lastRow("U")?.status == .unknown)

        var refused = MachineHarness(try compileWorkflow(yaml))
        refused.fail("U", "ConnectionRefused")
        refused.run()
        #expect(refused.lastRow("U")?.status == .failed)
    }

    @Test("An error on a non-update state is FA")
    func nonUpdateErrorIsFA() throws {
        let yaml = """
            Name: s
            StartState: R
            States:
              R: { Type: ServiceTask, ServiceName: s, ServiceMethod: r, Next: Done }
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("R", "ActionError.Broken")
        h.run()
        #expect(h.lastRow("R")?.status == .failed)
        #expect(h.status == .failed)
    }

    @Test("A $Exception row mapping the error to SU keeps the routing: Catch is still followed")
    func exceptionMappedToSUStillCatches() throws {
        var h = MachineHarness(try compileWorkflow(Self.statusYAML))
        h.fail("Check", "ActionError.Declined")
        h.run()
        #expect(h.lastRow("Check")?.status == .succeeded)
        #expect(h.lastRow("Check")?.failure == nil)
        #expect(h.machine.instance.context["_statemachine_error_code_"] == "CAUGHT")
    }

    @Test("A compensation state's error is UN, or FA when the call was refused or stopped by an open circuit (decision 0007)",
          arguments: [("ActionError.Broken", ExecutionStatus.unknown), ("Timeout", .unknown), ("HTTP.5xx", .unknown),
                      ("ConnectionRefused", .failed), ("CircuitOpen", .failed)])
    func compensationErrors(error: String, expected: ExecutionStatus) throws {
        // B fails (UN, caught to the trigger): UndoB succeeds, then UndoA fails and stops there.
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("B", "ActionError.Broken")
        h.fail("UndoA", error)
        h.run()
        #expect(h.callOrder == ["A", "B", "UndoB", "UndoA"])
        let undo = try #require(h.lastRow("UndoA"))
        #expect(undo.phase == .compensation)
        #expect(undo.status == expected, "\(error)")
        #expect(undo.failure?.name == error)
        #expect(h.status == .needsIntervention)
    }

    @Test("A $Exception row mapping the error to SU, with no Catch for it, still fails the instance (§4.2.5)")
    func exceptionMappedToSUWithoutCatchFails() throws {
        let yaml = """
            Name: s
            StartState: Check
            States:
              Check:
                Type: ServiceTask
                ServiceName: s
                ServiceMethod: check
                CompensateState: Undo
                Status:
                  "$Exception{ActionError.Declined}": SU
                  "[code] == 'OK'": SU
                Catch:
                  - Exceptions: [HTTP.5xx]
                    Next: Caught
                Next: After
              After: { Type: ServiceTask, ServiceName: s, ServiceMethod: after, Next: Done }
              Done: { Type: Succeed }
              Caught: { Type: Fail, ErrorCode: CAUGHT }
              Undo: { Type: ServiceTask, ServiceName: s, ServiceMethod: undo }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("Check", "ActionError.Declined")
        h.run()
        // The row is SU without its error, but neither Next nor the (non-matching) Catch is
        // followed: the instance ends on the error.
        #expect(h.lastRow("Check")?.status == .succeeded)
        #expect(h.lastRow("Check")?.failure == nil)
        #expect(h.callOrder == ["Check"])
        #expect(h.machine.instance.context["_statemachine_error_code_"] == nil)
        #expect(h.machine.instance.failure?.name == "ActionError.Declined")
        // Check changes data (CompensateState) and succeeded: §4.3 gives UN, not SU.
        #expect(h.status == .unknown)
    }

    @Test("The step row is RU in the transition that asks for the call (persisted before acting)")
    func rowIsRunningBeforeTheCall() throws {
        let yaml = sagaYAML.replacingOccurrences(
            of: "UndoA: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoA }",
            with: "UndoA: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoA, Retry: [{ Exceptions: [HTTP.5xx], MaxAttempts: 1, IntervalSeconds: 1 }] }")
        var machine = InstanceMachine(workflow: try compileWorkflow(yaml), id: "i1", input: [:], businessKey: nil,
                                      now: Date(timeIntervalSince1970: 1_000), random: { 0.5 })
        var now = Date(timeIntervalSince1970: 1_000)

        /// The decision must carry the row of the call it asks for, RU and not yet ended, and
        /// the instance's cursor must point at it, so a crash right after the commit resumes it.
        func expectIntentPersisted(_ decision: Decision, state: String, attempt: Int, phase: StepPhase,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
            guard case .invoke(let call) = decision.action else {
                Issue.record("expected a call, got \(decision.action)", sourceLocation: sourceLocation)
                return
            }
            #expect(call.stateName == state && call.attempt == attempt && call.phase == phase, sourceLocation: sourceLocation)
            let row = decision.transition?.steps.first { $0.idempotencyKey == call.idempotencyKey && $0.attempt == attempt }
            #expect(row?.status == .running, sourceLocation: sourceLocation)
            #expect(row?.stateName == state && row?.phase == phase, sourceLocation: sourceLocation)
            #expect(row?.endedAt == nil && row?.output == nil, sourceLocation: sourceLocation)
            #expect(row?.input == call.input, sourceLocation: sourceLocation)
            let cursor = decision.transition.flatMap { Cursor.decode($0.instance.cursor) }
            let inFlight = phase == .forward ? cursor?.seq : cursor?.compensation?.seq
            #expect(inFlight != nil && inFlight == row?.seq, sourceLocation: sourceLocation)
        }

        // A forward call.
        expectIntentPersisted(machine.handle(.start, now: now), state: "A", attempt: 1, phase: .forward)
        now += 1
        // B fails and is caught: the compensation of B is the next call.
        expectIntentPersisted(machine.handle(.actionCompleted(.success([:])), now: now), state: "B", attempt: 1, phase: .forward)
        now += 1
        let failedB = ActionOutcome.failure(ActionFailure(ErrorName("ActionError.Broken"), "no"))
        expectIntentPersisted(machine.handle(.actionCompleted(failedB), now: now), state: "UndoB", attempt: 1, phase: .compensation)
        now += 1
        expectIntentPersisted(machine.handle(.actionCompleted(.success([:])), now: now), state: "UndoA", attempt: 1, phase: .compensation)
        now += 1
        // A retry: the wait is persisted first, then the new attempt's row, RU, before its call.
        let wait = machine.handle(.actionCompleted(.failure(ActionFailure(.http5xx, "down"))), now: now)
        guard case .wait(let due) = wait.action else { Issue.record("expected a retry wait, got \(wait.action)"); return }
        #expect(wait.transition?.steps.first { $0.stateName == "UndoA" }?.status == .failed)
        expectIntentPersisted(machine.handle(.retryDue, now: due), state: "UndoA", attempt: 2, phase: .compensation)
    }

    @Test("Status is not applied to an IsAsync state")
    func asyncSkipsStatus() throws {
        let yaml = """
            Name: s
            StartState: N
            States:
              N: { Type: ServiceTask, ServiceName: s, ServiceMethod: n, IsAsync: true, Next: Done }
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.succeed("N", ["anything": 1])
        h.run()
        #expect(h.lastRow("N")?.status == .succeeded)
    }

    @Test("Output is evaluated against the result and merged into the context")
    func outputMerges() throws {
        let yaml = """
            Name: s
            StartState: A
            States:
              A: { Type: ServiceTask, ServiceName: s, ServiceMethod: a, Input: [{ id: "$.[orderId]", fixed: 7 }],
                   Output: { paid: "$.[ok]", all: "$.#root" }, Next: Done }
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml), input: ["orderId": 42])
        h.succeed("A", ["ok": true])
        h.run()
        #expect(h.calls.first?.input == ["id": 42, "fixed": 7])
        #expect(h.machine.instance.context["paid"] == true)
        #expect(h.machine.instance.context["all"] == ["ok": true])
    }
}

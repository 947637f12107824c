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

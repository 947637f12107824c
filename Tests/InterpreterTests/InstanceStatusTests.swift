import Foundation
import Testing
@testable import Interpreter
import StateLang

/// Reference §4.3: the final status of an instance.
@Suite("Final instance status (reference §4.3)")
struct InstanceStatusTests {
    static let linear = """
        Name: s
        StartState: Up
        States:
          Up: { Type: ServiceTask, ServiceName: s, ServiceMethod: up, IsForUpdate: true, CompensateState: Down, Next: Read }
          Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: Done }
          Done: { Type: Succeed }
          Down: { Type: ServiceTask, ServiceName: s, ServiceMethod: down }
        """

    @Test("Every state SU and no error: succeeded")
    func allSucceeded() throws {
        var h = MachineHarness(try compileWorkflow(Self.linear))
        let end = h.run()
        guard case .finished(.succeeded) = end else { Issue.record("ended \(end)"); return }
        #expect(h.machine.instance.forwardStatus == .succeeded)
        #expect(h.machine.instance.endedAt != nil)
    }

    @Test("Any UN state: unknown")
    func anyUnknown() throws {
        var h = MachineHarness(try compileWorkflow(Self.linear))
        h.fail("Up", "Timeout")
        h.run()
        #expect(h.machine.instance.forwardStatus == .unknown)
        #expect(h.status == .unknown)
    }

    @Test("A failed state after a successful update: unknown (side effects were not undone)")
    func failedAfterUpdate() throws {
        var h = MachineHarness(try compileWorkflow(Self.linear))
        h.fail("Read", "ActionError.Broken")
        h.run()
        #expect(h.lastRow("Read")?.status == .failed)
        #expect(h.status == .unknown)
    }

    @Test("A failed state with no successful update: failed")
    func failedWithoutUpdate() throws {
        let yaml = """
            Name: s
            StartState: Read
            States:
              Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: Done }
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("Read", "ActionError.Broken")
        h.run()
        #expect(h.status == .failed)
    }

    @Test("Reaching Fail after uncompensated updates: unknown (fail-end rule)")
    func failEndAfterUpdate() throws {
        let yaml = """
            Name: s
            StartState: Up
            States:
              Up: { Type: ServiceTask, ServiceName: s, ServiceMethod: up, CompensateState: Down, Next: Stop }
              Stop: { Type: Fail, ErrorCode: NOPE, Message: stopped }
              Down: { Type: ServiceTask, ServiceName: s, ServiceMethod: down }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        #expect(h.status == .unknown)
        #expect(h.machine.instance.context["_statemachine_error_code_"] == "NOPE")
        #expect(h.machine.instance.context["_statemachine_error_message_"] == "stopped")
    }

    @Test("Reaching Fail with no update: failed")
    func failEndWithoutUpdate() throws {
        let yaml = """
            Name: s
            StartState: Read
            States:
              Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: Stop }
              Stop: { Type: Fail }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        #expect(h.status == .failed)
    }

    @Test("Reaching Succeed does not guarantee success: a failed state caught to Succeed after an update is unknown")
    func succeedIsNotEnough() throws {
        let yaml = """
            Name: s
            StartState: Up
            States:
              Up: { Type: ServiceTask, ServiceName: s, ServiceMethod: up, CompensateState: Down, Next: Read }
              Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: Done,
                      Catch: [{ Exceptions: [Throwable], Next: Done }] }
              Done: { Type: Succeed }
              Down: { Type: ServiceTask, ServiceName: s, ServiceMethod: down }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.fail("Read", "ActionError.Broken")
        h.run()
        #expect(h.status == .unknown)
    }

    /// A read-only state whose `Status` maps every error to SU and that has no Catch: the
    /// instance ends on the error with every row SU, so the terminating error decides (§4.3).
    static func mappedToSU(withUpdateFirst: Bool) -> String {
        """
        Name: s
        StartState: \(withUpdateFirst ? "Up" : "Read")
        States:
          Up: { Type: ServiceTask, ServiceName: s, ServiceMethod: up, IsForUpdate: true, CompensateState: Down, Next: Read }
          Read:
            Type: ServiceTask
            ServiceName: s
            ServiceMethod: read
            Status: { "$Exception{Throwable}": SU, "[ok] == true": SU }
            Next: After
          After: { Type: ServiceTask, ServiceName: s, ServiceMethod: after, Next: Done }
          Done: { Type: Succeed }
          Down: { Type: ServiceTask, ServiceName: s, ServiceMethod: down }
        """
    }

    @Test("Every state SU, ended by an error, no successful update: failed")
    func terminatingErrorWithoutUpdate() throws {
        var h = MachineHarness(try compileWorkflow(Self.mappedToSU(withUpdateFirst: false)))
        h.fail("Read", "ActionError.Broken")
        let end = h.run()
        guard case .finished(.failed) = end else { Issue.record("ended \(end)"); return }
        #expect(h.machine.steps.map(\.status) == [.succeeded])
        #expect(h.callOrder == ["Read"])
        #expect(h.machine.instance.failure?.name == "ActionError.Broken")
        #expect(h.machine.instance.forwardStatus == .failed)
    }

    @Test("Every state SU, ended by an error after a successful update: unknown")
    func terminatingErrorAfterUpdate() throws {
        var h = MachineHarness(try compileWorkflow(Self.mappedToSU(withUpdateFirst: true)))
        h.fail("Read", "ActionError.Broken")
        h.run()
        #expect(h.machine.steps.map(\.status) == [.succeeded, .succeeded])
        #expect(h.callOrder == ["Up", "Read"])
        #expect(h.machine.instance.forwardStatus == .unknown)
        #expect(h.status == .unknown)
    }

    @Test("Every state SU, ended by a Timeout: unknown, as Seata's read timeout (decision 0023)",
          arguments: [("Timeout", InstanceStatus.unknown), ("ConnectionRefused", .failed), ("CircuitOpen", .failed),
                      ("NetworkError", .failed), ("HTTP.5xx", .failed)])
    func terminatingTimeout(error: String, expected: InstanceStatus) throws {
        var h = MachineHarness(try compileWorkflow(Self.mappedToSU(withUpdateFirst: false)))
        h.fail("Read", error)
        h.run()
        #expect(h.machine.steps.map(\.status) == [.succeeded])
        #expect(h.status == expected, "\(error)")
        #expect(h.machine.instance.failure?.name == error)
    }

    @Test("A Fail state's ErrorCode is not an error to classify: Fail with ErrorCode Timeout and no update is failed")
    func failStateCodeIsNotAnError() throws {
        let yaml = """
            Name: s
            StartState: Read
            States:
              Read: { Type: ServiceTask, ServiceName: s, ServiceMethod: read, Next: Stop }
              Stop: { Type: Fail, ErrorCode: Timeout }
            """
        var h = MachineHarness(try compileWorkflow(yaml))
        h.run()
        #expect(h.status == .failed)
        #expect(h.machine.instance.failure?.name == "Timeout")
    }

    @Test("A Choice with no match and no Default fails the instance")
    func choiceWithoutMatch() throws {
        let yaml = """
            Name: s
            StartState: C
            States:
              C:
                Type: Choice
                Choices:
                  - Expression: "[n] == 1"
                    Next: Done
              Done: { Type: Succeed }
            """
        var h = MachineHarness(try compileWorkflow(yaml), input: ["n": 2])
        h.run()
        #expect(h.status == .failed)
        #expect(h.machine.instance.failure?.name == "NoChoiceMatched")
    }

    @Test("Choice branches are tried in order, then Default")
    func choiceOrder() throws {
        let yaml = """
            Name: s
            StartState: C
            States:
              C:
                Type: Choice
                Choices:
                  - Expression: "[n] > 5"
                    Next: Big
                  - Expression: "[n] > 1"
                    Next: Medium
                Default: Small
              Big: { Type: ServiceTask, ServiceName: s, ServiceMethod: big }
              Medium: { Type: ServiceTask, ServiceName: s, ServiceMethod: medium }
              Small: { Type: ServiceTask, ServiceName: s, ServiceMethod: small }
            """
        for (n, expected) in [(9, "Big"), (3, "Medium"), (0, "Small")] {
            var h = MachineHarness(try compileWorkflow(yaml), input: ["n": .int(n)])
            h.run()
            #expect(h.callOrder == [expected])
        }
    }

    @Test("The user-facing status maps Seata's two fields")
    func displayMapping() {
        #expect(InstanceMachine.displayStatus(forward: .succeeded, compensation: nil) == .succeeded)
        #expect(InstanceMachine.displayStatus(forward: .failed, compensation: nil) == .failed)
        #expect(InstanceMachine.displayStatus(forward: .unknown, compensation: nil) == .unknown)
        #expect(InstanceMachine.displayStatus(forward: .unknown, compensation: .running) == .compensating)
        #expect(InstanceMachine.displayStatus(forward: .unknown, compensation: .succeeded) == .compensated)
        #expect(InstanceMachine.displayStatus(forward: .unknown, compensation: .unknown) == .needsIntervention)
        #expect(InstanceMachine.displayStatus(forward: .failed, compensation: .failed) == .needsIntervention)
    }
}

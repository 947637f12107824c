import Foundation
import Testing
@testable import Interpreter
import StateLang

/// `sagactl forward ID` (reference §6.2, decision 0008): from the latest attempt of the last
/// forward step that was not compensated.
@Suite("Forward recovery (reference §6.2, decision 0008)")
struct ForwardRecoveryTests {
    /// Quote's Timeout is mapped to SU and not caught, so the instance ends `unknown` with a
    /// succeeded last step: forward goes on with Quote's Next.
    static let quoteThenCharge = """
        Name: q
        StartState: Reserve
        States:
          Reserve: { Type: ServiceTask, ServiceName: s, ServiceMethod: reserve, CompensateState: Release, Next: Quote }
          Quote:
            Type: ServiceTask
            ServiceName: s
            ServiceMethod: quote
            Status: { "$Exception{Timeout}": SU, "[ok] == true": SU }
            Next: Charge
          Charge: { Type: ServiceTask, ServiceName: s, ServiceMethod: charge, Next: Done }
          Done: { Type: Succeed }
          Release: { Type: ServiceTask, ServiceName: s, ServiceMethod: release }
        """

    @Test("A succeeded last forward step is not called again: forward continues with its Next")
    func succeededLastStepContinuesWithNext() throws {
        var h = MachineHarness(try compileWorkflow(Self.quoteThenCharge))
        h.fail("Quote", "Timeout")
        h.run()
        #expect(h.status == .unknown)
        #expect(h.lastRow("Quote")?.status == .succeeded)
        let quoteKey = try #require(h.lastRow("Quote")?.idempotencyKey)
        h.calls = []
        let end = h.run(.forward)
        guard case .finished(.succeeded) = end else { Issue.record("ended \(end)"); return }
        #expect(h.callOrder == ["Charge"])
        #expect(h.rows("Quote").count == 1)
        #expect(h.calls.first?.idempotencyKey != quoteKey)
        #expect(h.machine.instance.failure == nil)
    }

    @Test("forward is refused while the compensation of the last forward step is UN")
    func refusedWhenCompensationUnknown() throws {
        // C fails (UN, caught to the trigger) and its compensation UndoC fails too (UN).
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("C", "ActionError.Broken")
        h.fail("UndoC", "ActionError.Broken")
        h.run()
        #expect(h.status == .needsIntervention)
        #expect(h.lastRow("UndoC")?.status == .unknown)
        let before = h.machine.instance
        let decision = h.machine.handle(.forward, now: h.now)
        guard case .rejected(let reason) = decision.action else { Issue.record("not refused: \(decision.action)"); return }
        #expect(reason.contains("compensation of 'C' ended unknown"))
        #expect(reason.contains("sagactl compensate"))
        #expect(decision.transition == nil)
        #expect(h.machine.instance == before)
    }

    @Test("forward is refused on a succeeded instance and on a compensated one, saying why",
          arguments: ["succeeded", "compensated"])
    func refusedOnFinishedInstances(ending: String) throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        if ending == "compensated" { h.fail("C", "ActionError.Broken") }
        h.run()
        #expect(h.status.rawValue == ending)
        let decision = h.machine.handle(.forward, now: h.now)
        guard case .rejected(let reason) = decision.action else { Issue.record("not refused: \(decision.action)"); return }
        #expect(decision.transition == nil)
        if ending == "succeeded" {
            #expect(reason.contains("has status succeeded"))
            #expect(reason.contains("only failed or unknown instances"))
        } else {
            #expect(reason.contains("has been compensated"))
        }
        #expect(h.status.rawValue == ending)
    }

    @Test("forward after a stopped compensation clears the compensation status and can succeed")
    func forwardClearsStoppedCompensation() throws {
        // C is refused (FA, not compensated), the trigger compensates B, whose undo is refused
        // too: the compensation stops with nothing undone (FA), needs-intervention.
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        h.fail("C", "ConnectionRefused")
        h.fail("UndoB", "ConnectionRefused")
        h.run()
        #expect(h.status == .needsIntervention)
        #expect(h.machine.instance.compensationStatus == .failed)
        let cKey = try #require(h.lastRow("C")?.idempotencyKey)
        h.calls = []
        let end = h.run(.forward)
        guard case .finished(.succeeded) = end else { Issue.record("ended \(end)"); return }
        // C is made again under its key, then the flow goes on; nothing is compensated.
        #expect(h.callOrder == ["C", "D", "E"])
        #expect(h.calls.first?.idempotencyKey == cKey)
        #expect(h.calls.first?.attempt == 2)
        #expect(h.machine.instance.compensationStatus == nil)
        #expect(h.machine.instance.forwardStatus == .succeeded)
        #expect(h.machine.instance.failure == nil)
    }

    @Test("forward is refused while the instance is still running")
    func refusedWhileRunning() throws {
        var h = MachineHarness(try compileWorkflow(sagaYAML))
        _ = h.machine.handle(.start, now: h.now)
        let decision = h.machine.handle(.forward, now: h.now)
        guard case .rejected(let reason) = decision.action else { Issue.record("not refused: \(decision.action)"); return }
        #expect(reason.contains("is still running"))
    }
}

import Foundation
import Testing
@testable import Interpreter
import StateLang

/// Compiles a workflow from YAML text; fails the test on any error.
func compileWorkflow(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Workflow {
    let result = WorkflowPipeline.compile(text: yaml, path: "test.yaml")
    let errors = result.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "workflow has errors: \(errors.map(\.message))", sourceLocation: sourceLocation)
    return try #require(result.workflow, sourceLocation: sourceLocation)
}

/// Drives an `InstanceMachine` with scripted outcomes, performing no I/O: what the executor
/// does, minus the store and the services. Every transition is kept, so a test can rebuild
/// the machine from any of them as a restarted executor would.
struct MachineHarness {
    var machine: InstanceMachine
    var now = Date(timeIntervalSince1970: 1_000)
    /// Calls made, in order.
    var calls: [Invocation] = []
    var transitions: [Transition] = []
    var waits: [Date] = []
    /// Seconds from the failure to the due time of each retry.
    var delays: [Double] = []
    /// Outcomes to return per state name, consumed in order; a missing entry means success
    /// with an empty object.
    var script: [String: [ActionOutcome]] = [:]
    var children: [String: ChildOutcome] = [:]

    init(_ workflow: Workflow, input: JSONValue = [:], id: String = "i1") {
        machine = InstanceMachine(workflow: workflow, id: id, input: input, businessKey: nil,
                                  now: Date(timeIntervalSince1970: 1_000), random: { 0.5 }, makeID: { "seq-id" })
    }

    mutating func fail(_ state: String, _ name: String, times: Int = 1, message: String = "boom") {
        script[state, default: []] += Array(repeating: .failure(ActionFailure(ErrorName(name), message)), count: times)
    }

    mutating func succeed(_ state: String, _ value: JSONValue) {
        script[state, default: []].append(.success(value))
    }

    /// Handles `event`, then keeps answering until the instance finishes or `maxSteps` runs out.
    @discardableResult
    mutating func run(_ event: MachineEvent = .start, maxSteps: Int = 200) -> MachineAction {
        var decision = machine.handle(event, now: now)
        for _ in 0..<maxSteps {
            if let t = decision.transition { transitions.append(t) }
            switch decision.action {
            case .invoke(let call):
                calls.append(call)
                now = now.addingTimeInterval(0.01)
                let outcome = script[call.stateName]?.isEmpty == false
                    ? script[call.stateName]!.removeFirst() : .success(.object([:]))
                decision = machine.handle(.actionCompleted(outcome), now: now)
            case .wait(let due):
                waits.append(due)
                delays.append(due.timeIntervalSince(now))
                now = due
                decision = machine.handle(.retryDue, now: now)
            case .runChild(let request):
                let outcome = children[request.machineName] ?? ChildOutcome(
                    instanceID: request.childID, forwardStatus: .succeeded,
                    compensationStatus: request.compensate ? .succeeded : nil, context: [:], failure: nil)
                decision = machine.handle(.childFinished(outcome), now: now)
            case .finished, .rejected:
                return decision.action
            }
        }
        Issue.record("the machine did not finish within \(maxSteps) steps")
        return decision.action
    }

    var status: InstanceStatus { machine.instance.status }
    var callOrder: [String] { calls.map(\.stateName) }
    func rows(_ state: String) -> [StepRecord] { machine.steps.filter { $0.stateName == state } }
    func lastRow(_ state: String) -> StepRecord? { rows(state).last }
}

/// A five-step saga in the shape of order-payment, with compensations, catch → trigger → Fail.
let sagaYAML = """
    Name: saga
    StartState: A
    States:
      A: { Type: ServiceTask, ServiceName: s, ServiceMethod: a, CompensateState: UndoA, Next: B,
           Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
      B: { Type: ServiceTask, ServiceName: s, ServiceMethod: b, CompensateState: UndoB, Next: C,
           Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
      C: { Type: ServiceTask, ServiceName: s, ServiceMethod: c, CompensateState: UndoC, Next: D,
           Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
      D: { Type: ServiceTask, ServiceName: s, ServiceMethod: d, CompensateState: UndoD, Next: E,
           Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
      E: { Type: ServiceTask, ServiceName: s, ServiceMethod: e, CompensateState: UndoE, Next: Done,
           Catch: [{ Exceptions: [Throwable], Next: Rollback }] }
      Done: { Type: Succeed }
      Rollback: { Type: CompensationTrigger, Next: Failed }
      Failed: { Type: Fail, ErrorCode: SAGA_FAILED }
      UndoA: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoA }
      UndoB: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoB }
      UndoC: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoC }
      UndoD: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoD }
      UndoE: { Type: ServiceTask, ServiceName: s, ServiceMethod: undoE }
    """

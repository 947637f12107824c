import Foundation
import StateLang

/// One instance as the engine drives it: its machine and the decision to perform next.
///
/// A class so that the engine's async functions hold a reference, not the values. An async
/// function's frame lives in its task's allocator for as long as the call is suspended, and the
/// allocator keeps the memory of the deepest call stack until the task ends: frames that held
/// an `InstanceMachine`, a `Decision` and their copies cost ~20 KB per instance waiting on an
/// action (`sagactl bench --inflight`). Only the task that drives the instance uses it, one
/// call at a time; a parked instance (`SagaEngine.park`) is handed from the task that parked it
/// to the one its action's completion starts, never used by both: hence `@unchecked Sendable`.
final class DrivenInstance: @unchecked Sendable {
    private(set) var machine: InstanceMachine
    /// The decision to perform next. Its transition is dropped once applied.
    private(set) var decision: Decision
    /// For an instance of `SagaEngine.start`: what to tell when it ends.
    var onFinish: (@Sendable (Result<InstanceRecord, any Error>) -> Void)?

    /// What the executor does next, without the payloads (they stay here).
    enum Next {
        case invoke
        case wait(until: Date)
        case runChild
        case finished(InstanceStatus)
        case rejected(String)
    }

    @inline(never)
    init(machine: InstanceMachine, event: MachineEvent, now: Date, owner: LeaseOwner, leaseUntil: Date) {
        self.machine = machine
        self.machine.setLease(owner: owner, expiresAt: leaseUntil)
        self.decision = self.machine.handle(event, now: now)
    }

    var id: InstanceID { machine.instance.id }
    var instance: InstanceRecord { machine.instance }
    var workflow: Workflow { machine.workflow }
    /// The workflow's service bindings (out of line: a `Workflow` temporary would take its
    /// size in the async frame that asks).
    var services: [String: ServiceBinding] {
        @inline(never) get { machine.workflow.services }
    }
    var transition: Transition? { decision.transition }

    @inline(never)
    var next: Next {
        switch decision.action {
        case .invoke: .invoke
        case .wait(let due): .wait(until: due)
        case .runChild: .runChild
        case .finished(let status): .finished(status)
        case .rejected(let reason): .rejected(reason)
        }
    }

    /// What `next` is, without its payload (for the frame that loops over the steps).
    enum Step { case invoke, wait, runChild, finished, rejected }

    var step: Step {
        switch decision.action {
        case .invoke: .invoke
        case .wait: .wait
        case .runChild: .runChild
        case .finished: .finished
        case .rejected: .rejected
        }
    }

    /// The call to make when `next` is `.invoke`.
    @inline(never)
    var invocation: Invocation? {
        if case .invoke(let invocation) = decision.action { invocation } else { nil }
    }

    /// The child to run when `next` is `.runChild`.
    @inline(never)
    var childRequest: ChildRequest? {
        if case .runChild(let request) = decision.action { request } else { nil }
    }

    /// Calls `onFinish` (once).
    func reportEnd(_ end: Result<InstanceRecord, any Error>) {
        let report = onFinish
        onFinish = nil
        report?(end)
    }

    /// Tells the store that nobody will share this transition's commit (`CommitCompany`).
    func markTransitionAlone() {
        decision.transition?.company = .alone
    }

    /// Frees the rows of a transition the store has applied (they are kept in `machine`).
    func transitionApplied() {
        decision.transition = nil
    }

    /// Renews the lease carried by the next transition and handles `event`.
    @inline(never)
    func handle(_ event: MachineEvent, now: Date, owner: LeaseOwner, leaseUntil: Date) {
        machine.setLease(owner: owner, expiresAt: leaseUntil)
        decision = machine.handle(event, now: now)
    }
}

/// SL0302: a state that no instance ever runs. A state is reached when a forward path from
/// `StartState` leads to it, or when it is the `CompensateState` of a state so reached
/// (compensations run when what they undo is compensated; this covers the
/// `CompensateSubMachine` named by a `SubStateMachine`).
public struct UnreachableStateRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        // Without a valid start state every state would look unreachable; SL0101/SL0102 say why.
        guard let reachable = context.reachable, let start = workflow.startState else { return }
        // Who names each state as its CompensateState, found once: a scan per unreachable
        // state would be quadratic in a large file where most states are unreachable.
        var compensatedBy: [Int: [Int]] = [:]
        for (from, target) in context.compensationTarget.enumerated() {
            if let target { compensatedBy[target, default: []].append(from) }
        }
        for (index, state) in workflow.states.enumerated()
        where !reachable.contains(index) && !context.reachedByCompensation.contains(index) {
            let compensated = (compensatedBy[index] ?? []).map { workflow.states[$0].name.value }
            let message: String
            if !compensated.isEmpty {
                message = "state '\(state.name.value)' is never run: it compensates \(quotedList(compensated)), "
                    + "which no instance reaches"
            } else if state.isForCompensation?.value == true || state.type == .compensateSubMachine {
                message = "state '\(state.name.value)' is never run: it is a compensation, but no reachable state names it as its 'CompensateState'"
            } else {
                message = "state '\(state.name.value)' is never run: no path from StartState '\(start.value)' leads to it"
            }
            bag.add(
                .unreachableState, message, at: state.anchor,
                hint: "route to it with a Next, Catch, Choices or Default (or a CompensateState for a compensation), or remove it")
        }
    }
}

/// SL0308: `IsForUpdate: true` on a ServiceTask without `CompensateState`. A compensation that
/// reaches such a state cannot undo it and stops (Seata's CompensationStateNotFound).
/// Compensation states are exempt (they are never compensated themselves), and so is a
/// SubStateMachine (its child machine is compensated without a `CompensateState`).
public struct UpdateWithoutCompensateStateRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for (index, state) in workflow.states.enumerated() where state.type == .serviceTask {
            guard let flag = state.isForUpdate, flag.value, !state.has("CompensateState"),
                  !context.isCompensation(index) else { continue }
            bag.add(
                .updateWithoutCompensateState,
                "'\(state.name.value)' is marked IsForUpdate but has no 'CompensateState': a compensation that reaches it cannot undo it and stops there",
                at: flag.range,
                hint: "add `CompensateState:` naming a state that undoes it, or remove `IsForUpdate` if it changes nothing")
        }
    }
}

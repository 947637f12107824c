/// SL0303: a forward task state without `Next`. Seata ends the instance there implicitly
/// (with the status decided from the state log), which is legal but easy to do by accident;
/// a `Next` to a Succeed or Fail state says what was meant. Compensation states need no `Next`.
public struct DeadEndStateRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        let succeed = workflow.states.first { $0.type == .succeed }?.name.value
        for (index, state) in workflow.states.enumerated() {
            guard let type = state.type, type.isTask, !state.has("Next"), !context.isCompensation(index) else { continue }
            bag.add(
                .deadEndState,
                "'\(state.name.value)' has no 'Next': after it the instance ends implicitly, as in Seata",
                at: state.anchor,
                hint: succeed.map { "if that is meant, say so with `Next: \($0)`; otherwise name the state that follows" }
                    ?? "add a Succeed state and point `Next` at it, or name the state that follows")
        }
    }
}

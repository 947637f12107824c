/// SL0104 (warning): `CompensateState` names a state that exists; SL0310: that state can run
/// as a compensation (a task state, not a Choice, Succeed, Fail or CompensationTrigger).
///
/// A dangling name is a warning, not an error: Seata accepts it (three of its own test
/// definitions have one) and it behaves like an update state without `CompensateState`
/// (SL0308): compensation stops when it reaches the state. See
/// `docs/decisions/0006-unknown-compensate-state.md`.
public struct CompensateStateRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        var suggester = context.stateNameSuggester()
        for state in workflow.states where state.uses("CompensateState") {
            guard let target = state.compensateState else { continue }
            guard let index = context.index(of: target.value) else {
                let suggestion = suggester.closest(to: target.value)
                bag.add(
                    .unknownCompensateState,
                    "'CompensateState' of '\(state.name.value)' names '\(target.value)', which is not a state"
                        + didYouMean(suggestion),
                    at: target.range,
                    hint: (suggestion == nil
                        ? "add a state '\(target.value)' that undoes '\(state.name.value)', or name an existing one; "
                        : "")
                        + "as it is, compensating '\(state.name.value)' stops there and leaves the saga needing intervention")
                continue
            }
            let compensation = context.states[index]
            guard let type = compensation.type, !type.isTask else { continue }
            bag.add(
                .compensationStateNotTask,
                "'CompensateState' of '\(state.name.value)' names '\(target.value)', a \(type.rawValue) state, "
                    + "which cannot undo anything",
                at: target.range,
                notes: [DiagnosticNote("'\(target.value)' is defined here", at: compensation.anchor)],
                hint: "name a ServiceTask (or SubStateMachine, CompensateSubMachine, ScriptTask) that undoes '\(state.name.value)'")
        }
    }
}

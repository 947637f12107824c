/// SL0102: `StartState` names a state that exists. (A missing `StartState`, SL0101, is
/// reported while lowering.)
public struct StartStateRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        // With no states at all, SL0105 already says what is wrong.
        guard let start = workflow.startState, !workflow.states.isEmpty, context.startIndex == nil else { return }
        let suggestion = context.closestStateName(to: start.value)
        bag.add(
            .unknownStartState,
            "'StartState' names '\(start.value)', which is not a state" + didYouMean(suggestion),
            at: start.range,
            hint: suggestion == nil
                ? "name the first state to run; the states are " + quotedList(workflow.states.map(\.name.value), limit: 6)
                : nil)
    }
}

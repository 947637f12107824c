/// SL0307 (note): a Choice with branches but no `Default` fails the instance when no branch
/// matches.
public struct ChoiceWithoutDefaultRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.type == .choice {
            // With no branches at all SL0309 says more.
            guard let choices = state.choices, !choices.value.isEmpty, !state.has("Default") else { continue }
            bag.add(
                .choiceWithoutDefault,
                "Choice '\(state.name.value)' has no 'Default': when no branch matches, the instance fails",
                at: state.anchor,
                hint: "add `Default:` naming the state to go to otherwise, if failing is not what you want")
        }
    }
}

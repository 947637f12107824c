/// SL0306: a `Next` on a Choice. Seata consults it before the branches and lets it win, which
/// is never what the author meant; sagactl ignores it and follows the branches.
public struct ChoiceNextIgnoredRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.type == .choice {
            guard let key = state.keyRange("Next") else { continue }
            bag.add(
                .choiceNextIgnored,
                "'Next' on Choice '\(state.name.value)' is ignored by sagactl (Seata would take it instead of the chosen branch)",
                at: key,
                hint: "remove it; a Choice routes with `Choices` and `Default`")
        }
    }
}

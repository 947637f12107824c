/// SL0309: a Choice with no `Choices` entries can never choose.
public struct EmptyChoiceRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.type == .choice {
            let range: SourceRange
            if let choices = state.choices {
                guard choices.value.isEmpty else { continue }
                range = state.keyRange("Choices") ?? choices.range
            } else {
                // `Choices` written with the wrong type was reported while lowering.
                guard !state.has("Choices") else { continue }
                range = state.anchor
            }
            let fallback = state.defaultNext.map { " and always goes to its Default '\($0.value)'" } ?? ""
            bag.add(
                .emptyChoice,
                "Choice '\(state.name.value)' has no 'Choices' entries: it chooses nothing\(fallback)",
                at: range,
                hint: "add `Choices:` entries, each with an `Expression` and a `Next`")
        }
    }
}

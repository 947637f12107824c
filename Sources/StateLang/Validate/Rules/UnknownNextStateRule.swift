/// SL0103: every `Next`, `Catch[].Next`, `Choices[].Next` and `Default` names a state that
/// exists.
public struct UnknownNextStateRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        var suggester = context.stateNameSuggester()
        for edge in context.edges.joined() where edge.to == nil {
            let source = context.states[edge.from].name.value
            let suggestion = suggester.closest(to: edge.target.value)
            bag.add(
                .unknownNextState,
                "'\(edge.keyDescription)' of '\(source)' names '\(edge.target.value)', which is not a state"
                    + didYouMean(suggestion),
                at: edge.target.range,
                hint: suggestion == nil
                    ? "name one of the states under 'States', or add a state called '\(edge.target.value)'"
                    : nil)
        }
    }
}

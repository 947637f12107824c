/// SL0210: `Loop` (multi-instance execution) is not supported yet. A warning for `validate`
/// (Seata runs it), an error when the workflow is about to run
/// (`docs/decisions/0004-loop-at-validation.md`).
public struct LoopRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        let consequence = context.options.forExecution
            ? "sagactl cannot run this workflow"
            : "`sagactl run` refuses this workflow while it has a Loop"
        for state in workflow.states where state.uses("Loop") && state.loop != nil {
            bag.add(
                .loopNotSupported,
                "Loop is not supported yet: sagactl cannot run '\(state.name.value)' once per element",
                at: state.keyRange("Loop") ?? state.anchor,
                severity: context.options.unsupportedFeatureSeverity,
                hint: "\(consequence); pass the whole collection to one call, or run a SubStateMachine per element from the caller")
        }
    }
}

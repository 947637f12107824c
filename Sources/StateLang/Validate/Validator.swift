/// Checks a lowered workflow against every rule of the state language that lowering does not
/// already enforce: references, flow (cycles, reachability, dead ends), compensation, values
/// and service bindings. Every rule runs, always; the result is every finding, ordered by
/// position.
///
/// Expression syntax (SL05xx) is checked by the expression module, not here.
public enum Validator {
    /// Every rule, in the order of the codes they report.
    public static let rules: [any ValidationRule] = [
        StartStateRule(),
        UnknownNextStateRule(),
        CompensateStateRule(),
        SubMachineSelfReferenceRule(),
        LoopRule(),
        CycleWithoutExitRule(),
        UnreachableStateRule(),
        DeadEndStateRule(),
        CompensationOnForwardPathRule(),
        UpdateWithoutCompensationRouteRule(),
        ChoiceNextIgnoredRule(),
        ChoiceWithoutDefaultRule(),
        UpdateWithoutCompensateStateRule(),
        EmptyChoiceRule(),
        StatusCodeRule(),
        RetryRangeRule(),
        ExceptionNameRule(),
        UnboundServiceRule(),
        ScriptTypeRule(),
        TimeoutRule(),
        ServiceBindingRule(),
        AsyncStatusRule(),
        RetryMaxAttemptsRule(),
    ]

    /// Runs every rule over `workflow` and returns the diagnostics sorted by position.
    public static func validate(_ workflow: WorkflowSyntax, options: ValidationOptions = .init()) -> [Diagnostic] {
        let context = ValidationContext(workflow, options: options)
        var bag = DiagnosticBag()
        for rule in rules { rule.check(workflow, context, into: &bag) }
        return bag.sorted
    }
}

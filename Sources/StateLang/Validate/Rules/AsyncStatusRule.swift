/// SL0409: `Status` on an `IsAsync: true` state is never applied: the call is not awaited, so
/// the state succeeds as soon as the message is handed over.
public struct AsyncStatusRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.uses("IsAsync") && state.uses("Status") {
            guard state.isAsync?.value == true, state.status != nil, let key = state.keyRange("Status") else { continue }
            bag.add(
                .statusIgnoredOnAsync,
                "'Status' of '\(state.name.value)' is never applied: an IsAsync call is not awaited, so the state succeeds once the call is handed over",
                at: key,
                hint: "remove `Status`, or remove `IsAsync: true` to wait for the result")
        }
    }
}

/// SL0407: `TimeoutSeconds` (on a task state, or on a service binding) is positive.
public struct TimeoutRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for state in workflow.states where state.uses("TimeoutSeconds") {
            if let timeout = state.timeoutSeconds, timeout.value <= 0 {
                report(timeout, owner: "'\(state.name.value)'", into: &bag)
            }
        }
        for binding in workflow.services {
            if let timeout = binding.timeoutSeconds, timeout.value <= 0 {
                report(timeout, owner: "service '\(binding.name.value)'", into: &bag)
            }
        }
    }

    private func report(_ timeout: Located<Double>, owner: String, into bag: inout DiagnosticBag) {
        let shown = timeout.value == timeout.value.rounded() ? String(Int(timeout.value)) : String(timeout.value)
        bag.add(.timeoutOutOfRange,
                "'TimeoutSeconds' of \(owner) is \(shown); a call needs a positive deadline",
                at: timeout.range, hint: "give the longest a call may take, in seconds, or remove the key to use the default")
    }
}

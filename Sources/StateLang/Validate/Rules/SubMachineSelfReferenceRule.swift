/// SL0106: a `SubStateMachine` does not name the machine it belongs to (Seata rejects direct
/// recursion; indirect recursion through other files is not detected).
public struct SubMachineSelfReferenceRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        guard let machine = workflow.name else { return }
        for state in workflow.states where state.type == .subStateMachine {
            guard let child = state.stateMachineName, child.value == machine.value else { continue }
            bag.add(
                .subMachineSelfReference,
                "'\(state.name.value)' runs '\(child.value)', the machine it belongs to: every instance would start another without end",
                at: child.range,
                notes: [DiagnosticNote("this machine is named '\(machine.value)' here", at: machine.range)],
                hint: "name a different machine in 'StateMachineName', or loop with a Choice instead")
        }
    }
}

/// SL0305 (note): an update state whose failure cannot start a compensation. Seata never
/// compensates on an uncaught error: the instance ends `unknown` and waits for recovery. Only
/// a `Catch` route that leads (along forward edges) to a `CompensationTrigger` rolls back.
public struct UpdateWithoutCompensationRouteRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        let trigger = workflow.states.first { $0.type == .compensationTrigger }?.name.value
        for (index, state) in workflow.states.enumerated() {
            guard state.type == .serviceTask || state.type == .subStateMachine, state.isUpdate,
                  !context.isCompensation(index) else { continue }
            let routes = context.edges[index].filter {
                if case .catchRoute = $0.kind { return true }
                return false
            }
            if routes.contains(where: { $0.to.map(context.leadsToCompensationTrigger.contains) ?? false }) { continue }
            let why = routes.isEmpty ? "it has no Catch" : "none of its Catch routes leads to a CompensationTrigger"
            bag.add(
                .updateWithoutCompensationRoute,
                "'\(state.name.value)' changes data and \(why): an error here leaves the saga unknown until recovery",
                at: state.anchor,
                hint: trigger.map { "add `Catch: [{Exceptions: [Throwable], Next: \($0)}]` to roll back on failure" }
                    ?? "add a CompensationTrigger state and a `Catch` route to it to roll back on failure")
        }
    }
}

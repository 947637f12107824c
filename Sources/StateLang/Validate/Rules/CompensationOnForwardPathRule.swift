/// SL0304: a compensation state (named by a `CompensateState`, or marked `IsForCompensation`)
/// that forward execution also reaches, so it would run as a step as well as an undo.
public struct CompensationOnForwardPathRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        guard let reachable = context.reachable else { return }
        for index in context.compensationStates.sorted() where reachable.contains(index) {
            let state = workflow.states[index]
            let compensated = context.compensationTarget.indices
                .filter { context.compensationTarget[$0] == index }
                .map { workflow.states[$0].name.value }
            let role = compensated.isEmpty ? "is a compensation state" : "compensates \(quotedList(compensated))"
            var notes: [DiagnosticNote] = []
            if index == context.startIndex, let start = workflow.startState {
                notes.append(DiagnosticNote("it is the StartState", at: start.range))
            } else if let edge = context.edges.joined().first(where: {
                $0.isForward && $0.to == index && reachable.contains($0.from)
            }) {
                notes.append(DiagnosticNote(
                    "reached forward through '\(edge.keyDescription)' of '\(workflow.states[edge.from].name.value)'",
                    at: edge.target.range))
            }
            bag.add(
                .compensationOnForwardPath,
                "'\(state.name.value)' \(role) but is also reached on the forward path, so it can run as a normal step",
                at: state.anchor, notes: notes,
                hint: "give the forward path a state of its own; a compensation should only run to undo")
        }
    }
}

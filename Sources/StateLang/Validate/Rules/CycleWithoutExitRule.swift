/// SL0301: a cycle with no way out. Over the strongly connected components of the forward
/// graph (Next, Catch, Choices, Default), a component with a cycle is fine when one of its
/// states has an edge leaving it or ends the instance (a task or trigger without `Next`).
/// A Choice without `Default` is not a way out: when no branch matches, the instance fails
/// with an error, which is the behaviour Seata's validator rejects in
/// `simple_statemachine_with_multiple_infinite_loop.json`.
public struct CycleWithoutExitRule: ValidationRule {
    public init() {}

    public func check(_ workflow: WorkflowSyntax, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        for component in context.cycles {
            let members = Set(component)
            guard !component.contains(where: { hasWayOut($0, members: members, context) }) else { continue }
            report(component, members: members, context, into: &bag)
        }
    }

    /// Whether an instance at `index` can leave the group or end.
    private func hasWayOut(_ index: Int, members: Set<Int>, _ context: ValidationContext) -> Bool {
        let state = context.states[index]
        // An unknown type (reported while lowering) says nothing about where it goes.
        guard let type = state.type else { return true }
        for edge in context.edges[index] where edge.isForward {
            // A reference to no state is reported as SL0103; it was meant to lead somewhere.
            guard let to = edge.to else { return true }
            if !members.contains(to) { return true }
        }
        switch type {
        case .serviceTask, .scriptTask, .subStateMachine, .compensateSubMachine, .compensationTrigger:
            // Without `Next` the instance ends after this state (written but unreadable counts
            // as written: the value was reported while lowering).
            return !state.has("Next")
        case .succeed, .fail:
            return true
        case .choice:
            return false
        }
    }

    private func report(_ component: [Int], members: Set<Int>, _ context: ValidationContext, into bag: inout DiagnosticBag) {
        let first = component[0]
        let names = component.map { context.states[$0].name.value }
        let path = FlowGraph.cycle(through: first, within: members, successors: context.successors) ?? [first, first]
        let message: String
        if component.count == 1 {
            message = "'\(names[0])' leads only to itself: an instance that gets here never ends"
        } else {
            message = "states \(quotedList(names)) lead only to each other: an instance that gets here never ends"
        }
        var notes = [DiagnosticNote("the cycle: " + path.map { context.states[$0].name.value }.joined(separator: " → "))]
        let others = component.filter { !path.contains($0) }.map { context.states[$0].name.value }
        if !others.isEmpty {
            notes.append(DiagnosticNote("also trapped with them: " + quotedList(others, limit: 8)))
        }
        for index in component where context.states[index].type == .choice && !context.states[index].has("Default") {
            let choice = context.states[index]
            notes.append(DiagnosticNote(
                "'\(choice.name.value)' has no 'Default': when no branch matches the instance fails, which does not count as a way out",
                at: choice.anchor))
        }
        bag.add(
            .cycleWithoutExit, message, at: context.states[first].anchor, notes: notes,
            hint: "give one of these states a way out: a Choices branch, Default or Catch route to a state outside the cycle (such as a Succeed or Fail state)")
    }
}

/// Facts about a workflow that several rules need, computed once: states by name, the edges
/// between them, what is reachable from `StartState`, which states compensate others, and the
/// strongly connected components of the forward graph.
///
/// States are identified by their index in `WorkflowSyntax.states` (file order).
public struct ValidationContext: Sendable {
    public let options: ValidationOptions
    public let states: [StateSyntax]
    private let indexByName: [String: Int]

    /// The index of the state `StartState` names; nil when it is missing or names no state.
    public let startIndex: Int?
    /// Per state, every name reference it makes (`Next`, `Catch`, `Choices`, `Default`) through
    /// a key its type uses; keys a type does not use are ignored (SL0208) and make no edge.
    public let edges: [[FlowEdge]]
    /// Per state, the states forward execution can move to next (deduplicated, in file order
    /// of the references).
    public let successors: [[Int]]
    /// Per state, its `CompensateState` when the type uses the key and it names an existing
    /// task state (or a state of unknown type).
    public let compensationTarget: [Int?]
    /// States that run only as compensations: named by some `CompensateState`, marked
    /// `IsForCompensation: true`, or of type `CompensateSubMachine`.
    public let compensationStates: Set<Int>
    /// States reachable from `StartState` along forward edges (the start included); nil when
    /// there is no valid start state, so rules about reachability stay silent.
    public let reachable: Set<Int>?
    /// Compensation states named by the `CompensateState` of a forward-reachable state: they
    /// run when that state is compensated.
    public let reachedByCompensation: Set<Int>
    /// Strongly connected components of the forward graph that contain a cycle (more than one
    /// state, or a state with an edge to itself), each in file order.
    public let cycles: [[Int]]
    /// States from which some `CompensationTrigger` can be reached along forward edges
    /// (the triggers included).
    public let leadsToCompensationTrigger: Set<Int>

    public init(_ workflow: WorkflowSyntax, options: ValidationOptions = .init()) {
        self.options = options
        states = workflow.states
        var indexByName: [String: Int] = [:]
        for (i, state) in workflow.states.enumerated() where indexByName[state.name.value] == nil {
            indexByName[state.name.value] = i
        }
        self.indexByName = indexByName
        startIndex = workflow.startState.flatMap { indexByName[$0.value] }

        let edges = workflow.states.enumerated().map { i, state in
            ValidationContext.references(of: state, at: i, indexByName: indexByName)
        }
        self.edges = edges
        // A state has a handful of edges: a linear search beats a set per state.
        let successors = edges.map { outgoing in
            var targets: [Int] = []
            for edge in outgoing where edge.isForward {
                if let to = edge.to, !targets.contains(to) { targets.append(to) }
            }
            return targets
        }
        self.successors = successors

        // A `CompensateState` naming a Choice, Succeed, Fail or trigger is reported (SL0310)
        // and makes no compensation edge.
        let compensationTarget = workflow.states.map { state -> Int? in
            guard state.uses("CompensateState"), let name = state.compensateState,
                  let target = indexByName[name.value], workflow.states[target].type?.isTask ?? true
            else { return nil }
            return target
        }
        self.compensationTarget = compensationTarget
        var compensationStates = Set(compensationTarget.compactMap { $0 })
        for (i, state) in workflow.states.enumerated()
        where state.isForCompensation?.value == true || state.type == .compensateSubMachine {
            compensationStates.insert(i)
        }
        self.compensationStates = compensationStates

        if let startIndex {
            let forward = FlowGraph.reachable(from: [startIndex], successors: successors)
            reachable = forward
            reachedByCompensation = Set(forward.compactMap { compensationTarget[$0] })
        } else {
            reachable = nil
            reachedByCompensation = []
        }
        cycles = FlowGraph.stronglyConnectedComponents(successors: successors).filter { component in
            component.count > 1 || successors[component[0]].contains(component[0])
        }
        let triggers = workflow.states.indices.filter { workflow.states[$0].type == .compensationTrigger }
        leadsToCompensationTrigger = FlowGraph.reachable(from: triggers, successors: FlowGraph.reversed(successors))
    }

    /// The index of the state with this name.
    public func index(of name: String) -> Int? { indexByName[name] }

    public func state(named name: String) -> StateSyntax? { indexByName[name].map { states[$0] } }

    public func isCompensation(_ index: Int) -> Bool { compensationStates.contains(index) }

    /// The state name closest to `name`, for "did you mean".
    public func closestStateName(to name: String) -> String? {
        Suggestion.closest(to: name, in: states.map(\.name.value))
    }

    /// "Did you mean" over the state names, for a rule that asks once per reference.
    public func stateNameSuggester() -> Suggester {
        Suggester(states.map(\.name.value))
    }

    /// The references a state makes through the keys its type uses.
    static func references(of state: StateSyntax, at index: Int, indexByName: [String: Int]) -> [FlowEdge] {
        let type = state.type
        func uses(_ key: String) -> Bool { state.uses(key) }
        func edge(_ kind: FlowEdge.Kind, _ target: Located<String>) -> FlowEdge {
            FlowEdge(kind: kind, from: index, target: target, to: indexByName[target.value])
        }
        var result: [FlowEdge] = []
        if let next = state.next {
            let followed = type.map { $0 != .choice && $0 != .succeed && $0 != .fail } ?? true
            result.append(edge(followed ? .next : .ignoredNext, next))
        }
        if uses("Catch"), let catches = state.catches?.value {
            for (i, entry) in catches.enumerated() {
                if let next = entry.next { result.append(edge(.catchRoute(index: i), next)) }
            }
        }
        if uses("Choices"), let choices = state.choices?.value {
            for (i, choice) in choices.enumerated() {
                if let next = choice.next { result.append(edge(.choice(index: i), next)) }
            }
        }
        if uses("Default"), let target = state.defaultNext { result.append(edge(.defaultRoute, target)) }
        return result
    }
}

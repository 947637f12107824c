/// Edges: each one becomes a `StartState`, `Next`, `CompensateState`, `Choices` entry,
/// `Default` or `Catch` entry, depending on the nodes at its ends.
extension DesignerConverter {
    mutating func convert(_ edge: DesignerDocument.Edge) {
        if document.brokenNodeIds.contains(edge.source.value) || document.brokenNodeIds.contains(edge.target.value) {
            return  // the node was reported when it was read
        }
        guard let sourceIndex = resolve(edge.source, end: "source"), let targetIndex = resolve(edge.target, end: "target")
        else { return }
        let source = document.nodes[sourceIndex]
        let target = document.nodes[targetIndex]
        guard let targetName = target.stateId, stateIndex[targetIndex] != nil else {
            if target.role == .start || target.role == .catchEvent {
                reader.bag.add(.designerInvalid, "an edge cannot end at a \(target.stateType.value) node",
                               at: edge.target.range, hint: "connect the edge to the state that should run next")
            }
            return  // otherwise the target node was reported when it was read
        }
        let to = Located(targetName.value, edge.target.range)
        switch source.role {
        case .start:
            guard startNode == sourceIndex else { return }  // a second Start node, reported
            if let first = startState {
                reader.bag.add(.designerInvalid, "a second edge leaves the Start node (to '\(to.value)')", at: to.range,
                               notes: [DiagnosticNote("the first edge from the Start node", at: first.value.range)],
                               hint: "a state machine has one StartState; remove one of the edges")
                return
            }
            startState = SyntaxEntry(key: "StartState", keyRange: edge.targetKeyRange, value: .string(to.value, at: to.range))
        case .catchEvent:
            guard let owner = catchOwners[sourceIndex] else { return }  // on no task, reported
            var entries: [SyntaxEntry] = []
            if let exceptions = edge.props.first(where: { $0.key == "Exceptions" }) { entries.append(exceptions) }
            entries.append(SyntaxEntry(key: "Next", keyRange: edge.targetKeyRange, value: .string(to.value, at: to.range)))
            states[owner].appendFromEdge("Catch", item: SyntaxNode(.mapping(entries), range: edge.range))
        case .choice:
            guard let owner = stateIndex[sourceIndex] else { return }
            convertChoiceEdge(edge, to: to, owner: owner)
        case .task where target.role == .compensation:
            guard let owner = stateIndex[sourceIndex] else { return }
            ignoreProps(of: edge, leaving: states[owner].name.value)
            states[owner].setFromEdge("CompensateState", target: to, keyRange: edge.targetKeyRange,
                                      edgeName: "compensation edge", bag: &reader.bag)
        case .proposal:
            // Fork/Parallel branches have no standard form; the lowering reports the node's
            // type as unsupported, and its edges are left out.
            return
        case .task, .compensation, .other:
            guard let owner = stateIndex[sourceIndex] else { return }
            ignoreProps(of: edge, leaving: states[owner].name.value)
            states[owner].setFromEdge("Next", target: to, keyRange: edge.targetKeyRange, edgeName: "edge", bag: &reader.bag)
        }
    }

    private mutating func resolve(_ end: Located<String>, end role: String) -> Int? {
        if let index = nodeIndex[end.value] { return index }
        if nodeIdSuggester == nil { nodeIdSuggester = Suggester(nodeIndex.keys.sorted()) }
        let suggestion = nodeIdSuggester?.closest(to: end.value)
        reader.bag.add(.designerInvalid,
                       "the edge's \(role) '\(end.value)' is not the id of any node" + didYouMean(suggestion),
                       at: end.range, hint: "an edge's source and target are node ids (the 'id' field), not stateIds")
        return nil
    }

    private mutating func convertChoiceEdge(_ edge: DesignerDocument.Edge, to: Located<String>, owner: Int) {
        var isDefault = false
        if let flag = edge.props.first(where: { $0.key == "Default" }) {
            // Neither a branch nor the default: reported, and the edge is left out.
            guard let value = reader.bool(flag.value, key: "Default") else { return }
            isDefault = value.value
        }
        if isDefault {
            states[owner].setFromEdge("Default", target: to, keyRange: edge.targetKeyRange, edgeName: "default edge",
                                      bag: &reader.bag)
            return
        }
        var entries: [SyntaxEntry] = []
        if let expression = edge.props.first(where: { $0.key == "Expression" }) { entries.append(expression) }
        entries.append(SyntaxEntry(key: "Next", keyRange: edge.targetKeyRange, value: .string(to.value, at: to.range)))
        states[owner].appendFromEdge("Choices", item: SyntaxNode(.mapping(entries), range: edge.range))
    }

    /// Warns about edge properties that only mean something on edges leaving a Choice or a Catch.
    private mutating func ignoreProps(of edge: DesignerDocument.Edge, leaving state: String) {
        for entry in edge.props where ["Expression", "Default", "Exceptions"].contains(entry.key) {
            reader.bag.add(.designerInvalid,
                           "'\(entry.key)' on an edge leaving '\(state)' is ignored; it is used only on edges leaving a Choice or a Catch node",
                           at: entry.keyRange, severity: .warning)
        }
    }
}

/// Converts the old Seata designer's `{nodes, edges}` JSON into the standard state language,
/// following Seata's `DesignerJsonTransformer` (reference §8.2):
///
/// - the `Start` node's `stateProps.StateMachine` holds the machine's properties (`Name`,
///   `Comment`, `Version`, ...), and its edge names the `StartState`;
/// - every other node except `Catch` becomes a state named by its `stateId`, with its
///   `stateProps`, its `label` as `Comment`, and `Type` = its `stateType`, where `Compensation`
///   becomes a `ServiceTask` marked `IsForCompensation`;
/// - an edge from a task into a `Compensation` node is the task's `CompensateState`;
/// - an edge from a `Choice` is a `Choices` entry (`Expression` from the edge's stateProps), or
///   the `Default` when its stateProps say `Default: true`;
/// - a `Catch` node belongs to the task whose rectangle it overlaps; each edge leaving it is a
///   `Catch` entry of that task, with the edge's `Exceptions`;
/// - every other edge is a `Next`.
///
/// Where Seata silently drops or overwrites (a second edge, a Catch edge without stateProps),
/// this converter reports it. Beyond Seata, a Catch node may also sit on a `SubStateMachine`
/// or a `Compensation` node, since those are tasks that take `Catch` in the standard language.
struct DesignerConverter {
    var reader: NodeReader
    var diagnostics: [Diagnostic] { reader.bag.diagnostics }
    let document: DesignerDocument

    // What the phases below build up, in order.
    /// Node id → index in `document.nodes`.
    var nodeIndex: [String: Int] = [:]
    /// "Did you mean" over the node ids, made at the first edge that names no node.
    var nodeIdSuggester: Suggester?
    var startNode: Int?
    /// The Start node's machine properties, which become top-level keys.
    var machine: [SyntaxEntry] = []
    var states: [DesignerStateBuilder] = []
    /// Node index → index in `states`.
    var stateIndex: [Int: Int] = [:]
    /// Catch node index → index in `states` of the task it is attached to.
    var catchOwners: [Int: Int] = [:]
    var startState: SyntaxEntry?

    /// Reads `root` as a designer document; nil (reported in `reader`) when it is not one.
    init?(_ root: SyntaxNode, reader: inout NodeReader) {
        guard let document = DesignerDocument.read(root, reader: &reader) else { return nil }
        self.document = document
        self.reader = reader
    }

    /// The standard document; `root` is the designer document this converter was made from.
    mutating func convert(_ root: SyntaxNode) -> SyntaxNode {
        indexNodeIds()
        collectStates()
        attachCatchNodes()
        for edge in document.edges { convert(edge) }
        reportMissingStart()

        var top = machine
        if let startState { top.append(startState) }
        top.append(SyntaxEntry(key: "States", keyRange: document.nodesKeyRange,
                               value: SyntaxNode(.mapping(states.map(\.syntaxEntry)), range: document.nodesRange)))
        reader.bag.add(.designerFormat,
                       "converted from the Seata designer's nodes/edges format (\(states.count) state\(states.count == 1 ? "" : "s"))",
                       at: SourceRange(at: root.range.start))
        return SyntaxNode(.mapping(top), range: root.range)
    }

    private mutating func indexNodeIds() {
        for (index, node) in document.nodes.enumerated() {
            guard let id = node.id else { continue }
            if let first = nodeIndex[id.value] {
                reader.bag.add(.designerInvalid, "two designer nodes have the id '\(id.value)'", at: id.range,
                               notes: [DiagnosticNote("the first node with this id", at: document.nodes[first].id?.range)],
                               hint: "edges name nodes by id; give every node its own")
            } else {
                nodeIndex[id.value] = index
            }
        }
    }

    /// The Start node's properties, and a state for every node that becomes one.
    private mutating func collectStates() {
        var stateNames: [String: SourceRange] = [:]
        for (index, node) in document.nodes.enumerated() {
            switch node.role {
            case .start:
                if let first = startNode {
                    reader.bag.add(.designerInvalid, "a second Start node", at: node.stateType.range,
                                   notes: [DiagnosticNote("the first Start node", at: document.nodes[first].stateType.range)],
                                   hint: "a state machine has one Start node; remove the other")
                    continue
                }
                startNode = index
                machine = machineProperties(of: node)
            case .catchEvent:
                if let props = node.props {
                    reader.bag.add(.designerInvalid, "the stateProps of a Catch node are ignored", at: props.keyRange,
                                   severity: .warning,
                                   hint: "put 'Exceptions' in the stateProps of each edge leaving the Catch node")
                }
            case .compensation, .task, .choice, .proposal, .other:
                guard let name = node.stateId else { continue }
                if let first = stateNames[name.value] {
                    reader.bag.add(.designerInvalid, "two designer nodes have the stateId '\(name.value)'", at: name.range,
                                   notes: [DiagnosticNote("the first node named '\(name.value)'", at: first)],
                                   hint: "the stateId is the state's name and must be unique; rename one of them")
                    continue
                }
                stateNames[name.value] = name.range
                stateIndex[index] = states.count
                states.append(state(from: node, name: name))
            }
        }
    }

    /// Finds the task of every Catch node; one on no task is reported even when no edge leaves it.
    private mutating func attachCatchNodes() {
        for (index, node) in document.nodes.enumerated() where node.role == .catchEvent {
            if let owner = attachedTask(of: node) { catchOwners[index] = owner }
        }
    }

    private mutating func reportMissingStart() {
        if states.isEmpty {
            reader.bag.add(.noStates, "the designer document has no state nodes", at: document.nodesKeyRange,
                           hint: "the nodes other than Start and Catch become the machine's states")
        } else if let startNode, startState == nil {
            reader.bag.add(.missingStartState, "the Start node has no edge to a state, so the machine has no StartState",
                           at: document.nodes[startNode].stateType.range,
                           hint: "draw an edge from the Start node to the first state")
        } else if startNode == nil {
            reader.bag.add(.missingStartState, "the designer document has no Start node", at: document.nodesKeyRange,
                           hint: "add a node with \"stateType\": \"Start\" and an edge from it to the first state")
        }
    }

    // MARK: Nodes

    /// The entries of the Start node's `stateProps.StateMachine`, which become top-level keys.
    private mutating func machineProperties(of node: DesignerDocument.Node) -> [SyntaxEntry] {
        var result: [SyntaxEntry] = []
        for entry in node.propEntries {
            guard entry.key == "StateMachine" else {
                reader.bag.add(.unknownKey, "'\(entry.key)' in the Start node's stateProps is ignored", at: entry.keyRange,
                               hint: "machine properties belong in stateProps.StateMachine")
                continue
            }
            guard let properties = reader.mapping(entry.value, key: "StateMachine") else { continue }
            for property in properties {
                if property.key == "States" || property.key == "StartState" {
                    reader.bag.add(.designerInvalid, "'\(property.key)' in the Start node's properties is ignored",
                                   at: property.keyRange, severity: .warning,
                                   hint: "in a designer document the nodes are the states and the Start node's edge is the StartState")
                } else {
                    result.append(property)
                }
            }
        }
        return result
    }

    private mutating func state(from node: DesignerDocument.Node, name: Located<String>) -> DesignerStateBuilder {
        var builder = DesignerStateBuilder(node: node, name: name)
        let typeName = node.role == .compensation ? StateType.serviceTask.rawValue : node.stateType.value
        builder.append(SyntaxEntry(key: "Type", keyRange: node.stateTypeKeyRange,
                                   value: .string(typeName, at: node.stateType.range)))
        let props = node.propEntries
        if let label = node.label, case .string(let text)? = label.value.scalar?.value, !text.isEmpty,
            !props.contains(where: { $0.key == "Comment" }) {
            builder.append(SyntaxEntry(key: "Comment", keyRange: label.keyRange, value: label.value))
        }
        for entry in props {
            if entry.key == "Type" {
                reader.bag.add(.designerInvalid, "'Type' in stateProps is ignored; the node's stateType decides",
                               at: entry.keyRange, severity: .warning, hint: "remove 'Type' from stateProps")
                continue
            }
            builder.append(entry)
        }
        if node.role == .compensation, !props.contains(where: { $0.key == "IsForCompensation" }) {
            builder.append(SyntaxEntry(key: "IsForCompensation", keyRange: node.stateTypeKeyRange,
                                       value: .bool(true, at: node.stateType.range)))
        }
        return builder
    }

    /// The state whose rectangle a Catch node overlaps; nil (reported) when there is none.
    private mutating func attachedTask(of catchNode: DesignerDocument.Node) -> Int? {
        guard let frame = catchNode.frame else {
            reader.bag.add(.designerInvalid,
                           "cannot tell which task this Catch node is attached to: \(catchNode.frameProblem ?? "it has no position")",
                           at: catchNode.stateType.range,
                           hint: "a Catch node is attached to the task its rectangle (x, y, size) overlaps")
            return nil
        }
        var candidates: [(node: Int, area: Double)] = []
        for (index, node) in document.nodes.enumerated() where node.role.canHaveCatch && stateIndex[index] != nil {
            if let other = node.frame, frame.overlaps(other) { candidates.append((index, frame.overlapArea(other))) }
        }
        candidates.sort { $0.area > $1.area }
        guard let best = candidates.first, let owner = stateIndex[best.node] else {
            reader.bag.add(.designerInvalid, "this Catch node is not drawn on any task, so its edges belong to no state",
                           at: catchNode.stateType.range,
                           hint: "move it onto the border of the ServiceTask, ScriptTask or SubStateMachine whose errors it catches")
            return nil
        }
        if candidates.count > 1 {
            let others = candidates.dropFirst().compactMap { document.nodes[$0.node].stateId }
            reader.bag.add(.designerInvalid,
                           "this Catch node overlaps several tasks; it is attached to '\(document.nodes[best.node].stateId?.value ?? "?")', which it overlaps most",
                           at: catchNode.stateType.range, severity: .warning,
                           notes: others.map { DiagnosticNote("it also overlaps '\($0.value)'", at: $0.range) },
                           hint: "move it so that it touches only the task whose errors it catches")
        }
        return owner
    }
}

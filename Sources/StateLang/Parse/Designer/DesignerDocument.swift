/// The nodes and edges of a Seata designer document, read with their source ranges.
///
/// Reading only checks shapes (a node is a map, `stateType` is a string, ...); what the nodes
/// and edges mean is `DesignerConverter`'s business. A node or edge too broken to use is
/// reported and left out, so one bad node does not hide the problems of the others.
struct DesignerDocument {
    /// What a node becomes, decided by its `stateType`.
    enum Role: Equatable {
        /// `Start`: carries the machine's properties; its edge names the `StartState`.
        case start
        /// `Catch`: a small circle drawn on a task; its edges become that task's `Catch` entries.
        case catchEvent
        /// `Compensation`: a `ServiceTask` that undoes another task.
        case compensation
        /// `ServiceTask`, `ScriptTask`, `SubStateMachine`: its edge into a compensation node
        /// is its `CompensateState`, and a Catch node can be attached to it.
        case task
        case choice
        /// `Fork`, `ParallelStart`, ...: kept as a state for the lowering to report as unsupported.
        case proposal
        /// Every other type, including unknown ones (the lowering reports those).
        case other

        init(stateType: String) {
            switch stateType {
            case "Start": self = .start
            case "Catch": self = .catchEvent
            case "Compensation": self = .compensation
            case "ServiceTask", "ScriptTask", "SubStateMachine": self = .task
            case "Choice": self = .choice
            case _ where StateType.proposalTypes.contains(stateType): self = .proposal
            default: self = .other
            }
        }

        /// Whether a Catch node drawn over a node of this role is attached to it.
        var canHaveCatch: Bool { self == .task || self == .compensation }
    }

    /// A rectangle centred on (`x`, `y`), as the designer (G6) stores node positions.
    struct Frame: Equatable {
        var x: Double
        var y: Double
        var width: Double
        var height: Double

        /// Whether the two rectangles overlap (touching edges do not count, as in Seata).
        func overlaps(_ other: Frame) -> Bool {
            abs(x - other.x) < (width + other.width) / 2 && abs(y - other.y) < (height + other.height) / 2
        }

        /// The area the two rectangles share; 0 when they do not overlap.
        func overlapArea(_ other: Frame) -> Double {
            let w = min(x + width / 2, other.x + other.width / 2) - max(x - width / 2, other.x - other.width / 2)
            let h = min(y + height / 2, other.y + other.height / 2) - max(y - height / 2, other.y - other.height / 2)
            return max(0, w) * max(0, h)
        }
    }

    struct Node {
        var range: SourceRange
        var id: Located<String>?
        /// The state name; nil for Start and Catch nodes, which do not become states.
        var stateId: Located<String>?
        var stateType: Located<String>
        var stateTypeKeyRange: SourceRange
        var role: Role
        var label: SyntaxEntry?
        /// The `stateProps` entry, when it is a map.
        var props: SyntaxEntry?
        var propEntries: [SyntaxEntry] { if case .mapping(let e)? = props?.value.kind { e } else { [] } }
        var frame: Frame?
        /// Why `frame` is nil, for a Catch node that needs it.
        var frameProblem: String?
    }

    struct Edge {
        var range: SourceRange
        var source: Located<String>
        var target: Located<String>
        var targetKeyRange: SourceRange
        /// The entries of the edge's `stateProps` (`Expression`, `Default`, `Exceptions`).
        var props: [SyntaxEntry]
    }

    var nodes: [Node] = []
    /// The ids of nodes left out because they were reported as broken; edges to or from them
    /// are left out without a second report.
    var brokenNodeIds: Set<String> = []
    var edges: [Edge] = []
    /// The `nodes` key, where diagnostics about the document's states as a whole point.
    var nodesKeyRange: SourceRange
    var nodesRange: SourceRange

    /// Reads `root`, a map with `nodes` and `edges`; nil (reported) when it is not one, or when
    /// `nodes` or `edges` is not a list, which leaves nothing to convert.
    static func read(_ root: SyntaxNode, reader: inout NodeReader) -> DesignerDocument? {
        guard case .mapping(let entries) = root.kind,
            let nodesEntry = entries.first(where: { $0.key == "nodes" }),
            let edgesEntry = entries.first(where: { $0.key == "edges" })
        else {
            reader.bag.add(.designerInvalid, "not a designer document: it needs both 'nodes' and 'edges'",
                           at: SourceRange(at: root.range.start))
            return nil
        }
        for entry in entries where entry.key != "nodes" && entry.key != "edges" {
            reader.bag.add(
                .unknownKey, "'\(entry.key)' next to 'nodes' and 'edges' is ignored", at: entry.keyRange,
                hint: "machine properties (Name, Comment, Version, ...) belong in the Start node's stateProps.StateMachine")
        }
        guard let nodeItems = list(nodesEntry, reader: &reader), let edgeItems = list(edgesEntry, reader: &reader)
        else { return nil }
        var document = DesignerDocument(nodesKeyRange: nodesEntry.keyRange, nodesRange: nodesEntry.value.range)
        for item in nodeItems {
            if let node = readNode(item, reader: &reader) {
                document.nodes.append(node)
            } else if case .mapping(let entries) = item.kind, let id = entries.first(where: { $0.key == "id" })?.value.scalar {
                document.brokenNodeIds.insert(id.text)
            }
        }
        document.edges = edgeItems.compactMap { readEdge($0, reader: &reader) }
        return document
    }

    /// A list, or null read as an empty list (the designer writes `"edges": []`, but a
    /// hand-edited file may leave the value out).
    private static func list(_ entry: SyntaxEntry, reader: inout NodeReader) -> [SyntaxNode]? {
        if case .null? = entry.value.scalar?.value { return [] }
        return reader.sequence(entry.value, key: entry.key)
    }

    private static func readNode(_ node: SyntaxNode, reader: inout NodeReader) -> Node? {
        guard case .mapping(let entries) = node.kind else {
            reader.bag.add(.designerInvalid, "a designer node must be a map, not \(node.kindDescription)", at: node.range)
            return nil
        }
        func entry(_ key: String) -> SyntaxEntry? { entries.first { $0.key == key } }
        let nodeStart = SourceRange(at: node.range.start)
        guard let typeEntry = entry("stateType") else {
            reader.bag.add(.designerInvalid, "this designer node has no 'stateType'", at: nodeStart,
                           hint: "every node needs a stateType such as ServiceTask, Choice, Start or Catch")
            return nil
        }
        guard let stateType = reader.string(typeEntry.value, key: "stateType") else { return nil }
        let role = Role(stateType: stateType.value)
        var id: Located<String>?
        if let idEntry = entry("id") {
            id = reader.string(idEntry.value, key: "id")
        } else {
            reader.bag.add(.designerInvalid, "this \(stateType.value) node has no 'id', so no edge can reach it",
                           at: nodeStart, hint: "give it an 'id' that is unique in the document")
        }
        var stateId: Located<String>?
        if role != .start && role != .catchEvent {
            guard let stateIdEntry = entry("stateId") else {
                reader.bag.add(.designerInvalid, "this \(stateType.value) node has no 'stateId', so it cannot become a state",
                               at: nodeStart, hint: "the stateId is the state's name; give it one")
                return nil
            }
            guard let name = reader.string(stateIdEntry.value, key: "stateId") else { return nil }
            guard !name.value.isEmpty else {
                reader.bag.add(.designerInvalid, "'stateId' is empty", at: name.range, hint: "the stateId is the state's name")
                return nil
            }
            stateId = name
        }
        var props: SyntaxEntry?
        if let propsEntry = entry("stateProps") {
            if case .null? = propsEntry.value.scalar?.value {
                props = nil
            } else if reader.mapping(propsEntry.value, key: "stateProps") != nil {
                props = propsEntry
            }
        }
        var result = Node(range: node.range, id: id, stateId: stateId, stateType: stateType,
                          stateTypeKeyRange: typeEntry.keyRange, role: role, label: entry("label"), props: props)
        (result.frame, result.frameProblem) = frame(x: entry("x"), y: entry("y"), size: entry("size"))
        return result
    }

    private static func readEdge(_ node: SyntaxNode, reader: inout NodeReader) -> Edge? {
        guard case .mapping(let entries) = node.kind else {
            reader.bag.add(.designerInvalid, "a designer edge must be a map, not \(node.kindDescription)", at: node.range)
            return nil
        }
        var ends: [Located<String>] = []
        var targetKeyRange = node.range
        for key in ["source", "target"] {
            guard let end = entries.first(where: { $0.key == key }) else {
                reader.bag.add(.designerInvalid, "this edge has no '\(key)'", at: SourceRange(at: node.range.start),
                               hint: "an edge needs the 'id' of the node it leaves ('source') and of the node it enters ('target')")
                return nil
            }
            guard let id = reader.string(end.value, key: key) else { return nil }
            ends.append(id)
            if key == "target" { targetKeyRange = end.keyRange }
        }
        var props: [SyntaxEntry] = []
        if let propsEntry = entries.first(where: { $0.key == "stateProps" }) {
            if case .null? = propsEntry.value.scalar?.value {
                props = []
            } else if let entries = reader.mapping(propsEntry.value, key: "stateProps") {
                props = entries
            }
        }
        return Edge(range: node.range, source: ends[0], target: ends[1], targetKeyRange: targetKeyRange, props: props)
    }

    /// The node's rectangle from `x`, `y` (its centre) and `size` (`"width*height"`).
    private static func frame(x: SyntaxEntry?, y: SyntaxEntry?, size: SyntaxEntry?) -> (Frame?, String?) {
        guard let x, let y, let size else {
            let missing = [("x", x), ("y", y), ("size", size)].filter { $0.1 == nil }.map { "'\($0.0)'" }
            return (nil, "it has no " + missing.joined(separator: " or "))
        }
        guard let cx = x.value.scalar?.value.doubleValue, let cy = y.value.scalar?.value.doubleValue else {
            return (nil, "its 'x' and 'y' must be numbers")
        }
        let parts = (size.value.scalar?.text ?? "").split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Double(parts[0]), let height = Double(parts[1]),
            width.isFinite, height.isFinite, width >= 0, height >= 0
        else {
            return (nil, "its 'size' must be \"width*height\", such as \"39*39\"")
        }
        return (Frame(x: cx, y: cy, width: width, height: height), nil)
    }
}

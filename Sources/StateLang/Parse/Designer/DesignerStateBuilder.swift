/// One state of the converted document, built up from its designer node and then its edges.
/// Every entry keeps a range in the designer file, so later diagnostics point at the node or
/// edge the entry came from.
struct DesignerStateBuilder {
    var name: Located<String>
    var role: DesignerDocument.Role
    /// The node's `stateType` value, where synthesised keys such as `Catch` point.
    var typeRange: SourceRange
    var range: SourceRange
    private(set) var entries: [SyntaxEntry] = []
    /// Where each key that an edge set came from, to point at the first edge in a conflict.
    private var edgeSources: [String: SourceRange] = [:]

    init(node: DesignerDocument.Node, name: Located<String>) {
        self.name = name
        self.role = node.role
        self.typeRange = node.stateType.range
        self.range = node.range
    }

    func entry(_ key: String) -> SyntaxEntry? { entries.first { $0.key == key } }

    mutating func append(_ entry: SyntaxEntry) { entries.append(entry) }

    /// Sets a single-valued key (`Next`, `Default`, `CompensateState`) from an edge. Reports a
    /// conflict, and keeps the first value, when stateProps or an earlier edge already set it.
    mutating func setFromEdge(
        _ key: String, target: Located<String>, keyRange: SourceRange, edgeName: String, bag: inout DiagnosticBag
    ) {
        if let previous = entry(key) {
            let existing = previous.value.scalar?.text ?? "?"
            if let firstEdge = edgeSources[key] {
                bag.add(.designerInvalid,
                        "a second \(edgeName) leaves '\(name.value)' (to '\(target.value)'); it already goes to '\(existing)'",
                        at: target.range,
                        notes: [DiagnosticNote("the first \(edgeName) from '\(name.value)'", at: firstEdge)],
                        hint: "a state has one '\(key)'; remove one of the edges")
            } else {
                bag.add(.designerInvalid,
                        "'\(key)' of '\(name.value)' is set both in its stateProps ('\(existing)') and by an edge (to '\(target.value)')",
                        at: target.range,
                        notes: [DiagnosticNote("'\(key)' in stateProps", at: previous.keyRange)],
                        hint: "keep the edge and remove '\(key)' from stateProps")
            }
            return
        }
        edgeSources[key] = target.range
        entries.append(SyntaxEntry(key: key, keyRange: keyRange, value: .string(target.value, at: target.range)))
    }

    /// Appends an item to a list-valued key (`Catch`, `Choices`) from an edge, after any items
    /// written in stateProps. When stateProps holds something other than a list there, the
    /// lowering reports it and the edge's item is left out.
    mutating func appendFromEdge(_ key: String, item: SyntaxNode) {
        guard let index = entries.firstIndex(where: { $0.key == key }) else {
            entries.append(SyntaxEntry(key: key, keyRange: typeRange, value: SyntaxNode(.sequence([item]), range: range)))
            return
        }
        guard case .sequence(let items) = entries[index].value.kind else { return }
        entries[index].value.kind = .sequence(items + [item])
    }

    var syntaxEntry: SyntaxEntry {
        SyntaxEntry(key: name.value, keyRange: name.range, value: SyntaxNode(.mapping(entries), range: range))
    }
}

extension SyntaxNode {
    /// A string scalar made by a conversion, typed as a string whatever its text.
    static func string(_ text: String, at range: SourceRange) -> SyntaxNode {
        SyntaxNode(.scalar(ScalarSyntax(text: text, style: .doubleQuoted)), range: range)
    }

    static func bool(_ value: Bool, at range: SourceRange) -> SyntaxNode {
        SyntaxNode(.scalar(ScalarSyntax(text: value ? "true" : "false", style: .plain)), range: range)
    }
}

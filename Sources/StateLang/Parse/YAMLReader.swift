import CYaml
import Foundation

/// Reads YAML or JSON text into a `SyntaxNode` tree with exact source ranges.
///
/// Built on libyaml's event API with an explicit stack (no recursion), so deep nesting is a
/// diagnostic, not a stack overflow; every duplicate key is reported with a note pointing at the
/// first occurrence, and the tree is kept (the first value wins) so later phases still run.
public struct YAMLReader {
    /// Mappings and sequences nested deeper than this are rejected.
    public var maxDepth = 200
    /// Alias expansion beyond this many nodes is rejected (a "billion laughs" document).
    public var maxNodes = 2_000_000

    public init() {}

    public struct Result: Sendable {
        public var root: SyntaxNode?
        public var diagnostics: [Diagnostic]
    }

    private enum Frame {
        case mapping(start: SourcePosition, entries: [SyntaxEntry], pendingKey: (String, SourceRange)?,
                     anchor: String?, seen: [String: SourceRange], badKey: Bool)
        case sequence(start: SourcePosition, items: [SyntaxNode], anchor: String?)
    }

    public func read(_ text: String) -> Result {
        var diagnostics: [Diagnostic] = []
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [0x20] }  // libyaml needs a non-null pointer
        return bytes.withUnsafeBufferPointer { buffer -> Result in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return Result(root: nil, diagnostics: [
                    Diagnostic(.syntaxError, "out of memory while starting the YAML parser", at: nil)
                ])
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

            var stack: [Frame] = []
            var anchors: [String: SyntaxNode] = [:]
            var root: SyntaxNode?
            var documents = 0
            var nodeCount = 0

            func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int) -> String {
                guard let pointer else { return "" }
                return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
            }

            func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                guard let pointer else { return nil }
                return String(cString: pointer)
            }

            // Adds a finished node to its parent, or makes it the root.
            func attach(_ node: SyntaxNode, asKeyText keyText: String?) {
                guard let top = stack.popLast() else {
                    root = node
                    return
                }
                switch top {
                case .sequence(let start, var items, let anchor):
                    items.append(node)
                    stack.append(.sequence(start: start, items: items, anchor: anchor))
                case .mapping(let start, var entries, let pendingKey, let anchor, var seen, let badKey):
                    if let (key, keyRange) = pendingKey {
                        if !badKey {
                            if let first = seen[key] {
                                diagnostics.append(Diagnostic(
                                    .duplicateKey, "duplicate key '\(key)' in this mapping", at: keyRange,
                                    notes: [DiagnosticNote("'\(key)' is first defined here", at: first)],
                                    hint: "remove one of them; sagactl keeps the first"))
                            } else {
                                seen[key] = keyRange
                                entries.append(SyntaxEntry(key: key, keyRange: keyRange, value: node))
                            }
                        }
                        stack.append(.mapping(start: start, entries: entries, pendingKey: nil, anchor: anchor,
                                              seen: seen, badKey: false))
                    } else if let keyText {
                        stack.append(.mapping(start: start, entries: entries, pendingKey: (keyText, node.range),
                                              anchor: anchor, seen: seen, badKey: false))
                    } else {
                        diagnostics.append(Diagnostic(
                            .nonStringKey, "a mapping key must be a string, not \(node.kindDescription)",
                            at: node.range, hint: "write the key as a plain or quoted string"))
                        stack.append(.mapping(start: start, entries: entries, pendingKey: ("", node.range),
                                              anchor: anchor, seen: seen, badKey: true))
                    }
                }
            }

            var expectingKey: Bool {
                if case .mapping(_, _, let pending, _, _, _)? = stack.last { return pending == nil }
                return false
            }

            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    diagnostics.append(diagnostic(for: parser, bytes: buffer, text: text, depth: stack.count))
                    return Result(root: nil, diagnostics: diagnostics)
                }
                defer { yaml_event_delete(&event) }
                let start = YAMLReader.position(event.start_mark)
                let end = YAMLReader.position(event.end_mark)

                switch event.type {
                case YAML_STREAM_END_EVENT:
                    if documents == 0 || root == nil {
                        diagnostics.append(Diagnostic(
                            .emptyDocument, "the file holds no document", at: nil,
                            hint: "a workflow needs at least `StartState` and `States`"))
                    }
                    return Result(root: root, diagnostics: diagnostics)
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 {
                        diagnostics.append(Diagnostic(
                            .multipleDocuments, "a second YAML document starts here; a workflow file holds one",
                            at: SourceRange(at: start, length: 3),
                            hint: "put each workflow in its own file"))
                        return Result(root: root, diagnostics: diagnostics)
                    }
                case YAML_SCALAR_EVENT:
                    nodeCount += 1
                    let scalarData = event.data.scalar
                    let text = string(scalarData.value, Int(scalarData.length))
                    let style: ScalarStyle
                    switch scalarData.style {
                    case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                    case YAML_LITERAL_SCALAR_STYLE: style = .literal
                    case YAML_FOLDED_SCALAR_STYLE: style = .folded
                    default: style = .plain
                    }
                    var tag = cString(scalarData.tag)
                    if tag == "!" { tag = nil }
                    let node = SyntaxNode(
                        .scalar(ScalarSyntax(text: text, style: style, tag: tag)),
                        range: SourceRange(start: start, end: end))
                    if let anchor = cString(scalarData.anchor) { anchors[anchor] = node }
                    attach(node, asKeyText: expectingKey ? text : nil)
                case YAML_ALIAS_EVENT:
                    let name = cString(event.data.alias.anchor) ?? ""
                    guard var node = anchors[name] else {
                        diagnostics.append(Diagnostic(
                            .syntaxError, "unknown alias '*\(name)'", at: SourceRange(start: start, end: end)))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    let measure = YAMLReader.measure(node)
                    // The copy counts towards the depth limit as if written out: chained
                    // aliases would otherwise build trees thousands of levels deep.
                    if stack.count + measure.depth > maxDepth {
                        diagnostics.append(Diagnostic(
                            .nestingTooDeep,
                            "this alias nests values more than \(maxDepth) levels deep",
                            at: SourceRange(start: start, end: end),
                            hint: "an alias counts as the value it names, written out here"))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    nodeCount += measure.nodes
                    if nodeCount > maxNodes {
                        diagnostics.append(Diagnostic(
                            .aliasExpansion, "aliases expand to more than \(maxNodes) nodes",
                            at: SourceRange(start: start, end: end),
                            hint: "write the repeated parts out, or use fewer nested aliases"))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    node.range = SourceRange(start: start, end: end)
                    attach(node, asKeyText: expectingKey ? node.scalar?.text : nil)
                case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                    nodeCount += 1
                    if stack.count >= maxDepth {
                        diagnostics.append(nestingDiagnostic(at: start))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    if event.type == YAML_MAPPING_START_EVENT {
                        let anchor = cString(event.data.mapping_start.anchor)
                        stack.append(.mapping(start: start, entries: [], pendingKey: nil, anchor: anchor,
                                              seen: [:], badKey: false))
                    } else {
                        let anchor = cString(event.data.sequence_start.anchor)
                        stack.append(.sequence(start: start, items: [], anchor: anchor))
                    }
                case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                    guard let frame = stack.popLast() else { break }
                    let node: SyntaxNode
                    let anchor: String?
                    switch frame {
                    case .mapping(let s, let entries, _, let a, _, _):
                        node = SyntaxNode(.mapping(entries), range: SourceRange(start: s, end: end))
                        anchor = a
                    case .sequence(let s, let items, let a):
                        node = SyntaxNode(.sequence(items), range: SourceRange(start: s, end: end))
                        anchor = a
                    }
                    if let anchor { anchors[anchor] = node }
                    attach(node, asKeyText: nil)
                default:
                    break
                }
            }
        }
    }

    /// How many nodes `node` holds, and how many collections deep it nests (0 for a scalar).
    private static func measure(_ node: SyntaxNode) -> (nodes: Int, depth: Int) {
        var count = 0
        var depth = 0
        var pending = [(node, 0)]
        while let (next, level) = pending.popLast() {
            count += 1
            switch next.kind {
            case .scalar: break
            case .sequence(let items):
                depth = max(depth, level + 1)
                pending += items.map { ($0, level + 1) }
            case .mapping(let entries):
                depth = max(depth, level + 1)
                pending += entries.map { ($0.value, level + 1) }
            }
        }
        return (count, depth)
    }
}

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
    /// Alias expansion beyond this many bytes of scalar text is rejected: a few aliases of a
    /// long string make a document far larger than its file without many nodes, and every
    /// later phase (the fingerprint first) walks the expanded tree. Twice the largest file.
    public var maxExpandedBytes = 2 * WorkflowLoader.maxFileBytes

    public init() {}

    public struct Result: Sendable {
        public var root: SyntaxNode?
        public var diagnostics: [Diagnostic]
    }

    /// What a finished node holds: what an alias of it adds to the document when expanded.
    /// Kept with every node as it is built, so an alias costs nothing to measure.
    private struct Size {
        /// Nodes, itself included (keys are not nodes).
        var nodes: Int
        /// Collections nested, itself included: 0 for a scalar.
        var depth: Int
        /// Bytes of scalar text, keys included.
        var bytes: Int

        mutating func add(_ child: Size) {
            nodes += child.nodes
            depth = max(depth, child.depth + 1)
            bytes += child.bytes
        }
    }

    /// A collection being read. A class, so that adding a child mutates the frame on the
    /// stack in place: popping a value, appending to its array and pushing it back copied the
    /// array each time (quadratic in the number of entries in a debug build).
    private final class Frame {
        enum Kind { case mapping, sequence }

        let kind: Kind
        let start: SourcePosition
        let anchor: String?
        /// A mapping's entries, first value of each key.
        var entries: [SyntaxEntry] = []
        /// A sequence's items.
        var items: [SyntaxNode] = []
        /// A mapping's key read and waiting for its value.
        var pendingKey: (String, SourceRange)?
        /// A large mapping's keys so far, where each was first written (a small one's are
        /// found in `entries`: most mappings have a few keys, and hashing each cost more).
        private var seen: [String: SourceRange]?
        static let indexFrom = 16
        /// The pending key is not a string: its value is read and dropped.
        var badKey = false
        /// What the collection holds so far.
        var size = Size(nodes: 1, depth: 1, bytes: 0)

        /// Where `key` was first written in this mapping, if it was.
        func firstRange(of key: String) -> SourceRange? {
            if let seen { return seen[key] }
            return entries.first { $0.key == key }?.keyRange
        }

        /// Adds a mapping entry whose key is new.
        func addEntry(_ entry: SyntaxEntry) {
            entries.append(entry)
            if seen != nil {
                seen![entry.key] = entry.keyRange
            } else if entries.count >= Self.indexFrom {
                seen = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.keyRange) })
            }
        }

        init(_ kind: Kind, start: SourcePosition, anchor: String?) {
            self.kind = kind
            self.start = start
            self.anchor = anchor
        }
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
            var anchors: [String: (node: SyntaxNode, size: Size)] = [:]
            var root: SyntaxNode?
            var documents = 0
            var nodeCount = 0
            var expandedBytes = 0

            func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int) -> String {
                guard let pointer else { return "" }
                return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
            }

            var marks = MarkPlacer(bytes: buffer)
            func place(_ mark: yaml_mark_t) -> SourcePosition { marks.place(mark) }

            func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                guard let pointer else { return nil }
                return String(cString: pointer)
            }

            // Adds a finished node to its parent, or makes it the root.
            func attach(_ node: SyntaxNode, size: Size, asKeyText keyText: String?) {
                guard let top = stack.last else {
                    root = node
                    return
                }
                switch top.kind {
                case .sequence:
                    top.items.append(node)
                    top.size.add(size)
                case .mapping:
                    if let (key, keyRange) = top.pendingKey {
                        if !top.badKey {
                            if let first = top.firstRange(of: key) {
                                diagnostics.append(Diagnostic(
                                    .duplicateKey, "duplicate key '\(key)' in this mapping", at: keyRange,
                                    notes: [DiagnosticNote("'\(key)' is first defined here", at: first)],
                                    hint: "remove one of them; sagactl keeps the first"))
                            } else {
                                top.addEntry(SyntaxEntry(key: key, keyRange: keyRange, value: node))
                                top.size.add(size)
                            }
                        }
                        top.pendingKey = nil
                        top.badKey = false
                    } else if let keyText {
                        top.pendingKey = (keyText, node.range)
                        top.size.bytes += size.bytes
                    } else {
                        diagnostics.append(Diagnostic(
                            .nonStringKey, "a mapping key must be a string, not \(node.kindDescription)",
                            at: node.range, hint: "write the key as a plain or quoted string"))
                        top.pendingKey = ("", node.range)
                        top.badKey = true
                    }
                }
            }

            var expectingKey: Bool {
                guard let top = stack.last, top.kind == .mapping else { return false }
                return top.pendingKey == nil
            }

            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    diagnostics.append(diagnostic(for: parser, bytes: buffer, text: text, depth: stack.count))
                    return Result(root: nil, diagnostics: diagnostics)
                }
                defer { yaml_event_delete(&event) }
                let start = place(event.start_mark)
                let end = place(event.end_mark)

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
                    expandedBytes += Int(scalarData.length)
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
                    let size = Size(nodes: 1, depth: 0, bytes: Int(scalarData.length))
                    if let anchor = cString(scalarData.anchor) { anchors[anchor] = (node, size) }
                    attach(node, size: size, asKeyText: expectingKey ? text : nil)
                case YAML_ALIAS_EVENT:
                    let name = cString(event.data.alias.anchor) ?? ""
                    guard let anchored = anchors[name] else {
                        diagnostics.append(Diagnostic(
                            .syntaxError, "unknown alias '*\(name)'", at: SourceRange(start: start, end: end)))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    var node = anchored.node
                    let size = anchored.size
                    // The copy counts towards the depth limit as if written out: chained
                    // aliases would otherwise build trees thousands of levels deep.
                    if stack.count + size.depth > maxDepth {
                        diagnostics.append(Diagnostic(
                            .nestingTooDeep,
                            "this alias nests values more than \(maxDepth) levels deep",
                            at: SourceRange(start: start, end: end),
                            hint: "an alias counts as the value it names, written out here"))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    nodeCount += size.nodes
                    expandedBytes += size.bytes
                    if nodeCount > maxNodes || expandedBytes > maxExpandedBytes {
                        let limit = nodeCount > maxNodes
                            ? "\(maxNodes) nodes" : "\(WorkflowLoader.mebibytes(maxExpandedBytes)) of text"
                        diagnostics.append(Diagnostic(
                            .aliasExpansion, "aliases expand to more than \(limit)",
                            at: SourceRange(start: start, end: end),
                            hint: "write the repeated parts out, or use fewer nested aliases"))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    node.range = SourceRange(start: start, end: end)
                    attach(node, size: size, asKeyText: expectingKey ? node.scalar?.text : nil)
                case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                    nodeCount += 1
                    if stack.count >= maxDepth {
                        diagnostics.append(nestingDiagnostic(at: start))
                        return Result(root: nil, diagnostics: diagnostics)
                    }
                    if event.type == YAML_MAPPING_START_EVENT {
                        stack.append(Frame(.mapping, start: start, anchor: cString(event.data.mapping_start.anchor)))
                    } else {
                        stack.append(Frame(.sequence, start: start, anchor: cString(event.data.sequence_start.anchor)))
                    }
                case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                    guard let frame = stack.popLast() else { break }
                    let range = SourceRange(start: frame.start, end: end)
                    let node = switch frame.kind {
                    case .mapping: SyntaxNode(.mapping(frame.entries), range: range)
                    case .sequence: SyntaxNode(.sequence(frame.items), range: range)
                    }
                    if let anchor = frame.anchor { anchors[anchor] = (node, frame.size) }
                    attach(node, size: frame.size, asKeyText: nil)
                default:
                    break
                }
            }
        }
    }
}

/// The Seata designer's `nodes`/`edges` JSON, converted to the standard state language
/// (see `DesignerConverter` for the rules).
public enum DesignerFormat {
    /// Whether `root` is a designer document: a map with both `nodes` and `edges`, as Seata decides.
    public static func isDesignerDocument(_ root: SyntaxNode) -> Bool {
        guard case .mapping(let entries) = root.kind else { return false }
        return entries.contains { $0.key == "nodes" } && entries.contains { $0.key == "edges" }
    }

    /// The standard document for a designer document, whose nodes carry ranges in the designer
    /// file, and the diagnostics of the conversion: problems with nodes and edges, and one
    /// `designer-format` note saying the file was converted. The root is nil (with an error)
    /// only when `root` is not a designer document or `nodes` or `edges` is not a list;
    /// otherwise it is returned even with errors, so that the lowering can report the
    /// problems of the states too.
    public static func convert(_ root: SyntaxNode) -> (root: SyntaxNode?, diagnostics: [Diagnostic]) {
        var reader = NodeReader()
        guard var converter = DesignerConverter(root, reader: &reader) else { return (nil, reader.bag.diagnostics) }
        let converted = converter.convert(root)
        return (converted, converter.diagnostics)
    }
}

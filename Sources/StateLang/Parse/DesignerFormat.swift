/// The Seata designer's `nodes`/`edges` JSON, converted to the standard state language.
public enum DesignerFormat {
    public static func isDesignerDocument(_ root: SyntaxNode) -> Bool {
        guard case .mapping(let entries) = root.kind else { return false }
        return entries.contains { $0.key == "nodes" } && entries.contains { $0.key == "edges" }
    }

    public static func convert(_ root: SyntaxNode) -> (root: SyntaxNode?, diagnostics: [Diagnostic]) {
        (nil, [Diagnostic(.designerFormat, "designer-format files are not converted yet", at: root.range, severity: .error)])
    }
}

/// Parses SpEL expression text (the part after `$.` in a leaf, or a whole condition) into an
/// `Expr`.
///
/// The supported subset is the one real Seata definitions use (DESIGN §3.3); every other SpEL
/// construct is recognised well enough to be reported by name with `.unsupportedExpression`.
public enum ExpressionParser {
    /// The deepest tree (and the deepest nesting of parentheses, brackets and prefix operators)
    /// the parser accepts. Real expressions stay under ten; the bound keeps parsing and every
    /// later walk over the tree off the end of the stack. At the limit, parsing needs about
    /// 2 MB of stack in a debug build and under 400 KB optimised (x86-64 Linux); the tests
    /// parse and evaluate at the limit on a thread with a 4 MB stack.
    public static let maxDepth = 200

    /// Parses `text` as one complete expression.
    ///
    /// Offsets in the tree and in a thrown error are 0-based Unicode-scalar offsets into `text`.
    public static func parse(_ text: String) throws(ExpressionError) -> Expr {
        try parse(text.scalarArray, from: 0)
    }

    /// Parses `scalars[start...]`, keeping offsets relative to `scalars[0]` so that the tree of
    /// the SpEL part of `$.[a]` points into the whole leaf.
    static func parse(_ scalars: [Unicode.Scalar], from start: Int) throws(ExpressionError) -> Expr {
        let tokens = try ExpressionLexer.tokenize(scalars, start: start)
        var parser = ExpressionTokenParser(tokens: tokens)
        return try parser.parseComplete()
    }
}

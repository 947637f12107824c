/// An `Input` leaf or an `Output` value, as Seata reads them: a string starting with `$` is an
/// expression, any other string is a literal.
public enum LeafExpression: Sendable, Hashable {
    /// A string without a leading `$`, used as it is (even one that looks like SpEL).
    case literal(String)
    /// `$.<spel>`, evaluated against the root (the context for `Input`, the result for
    /// `Output`). The tree's offsets are into the whole leaf; `contentOffset` is where the SpEL
    /// text starts in it (2, after `$.`).
    case path(Expr, contentOffset: Int)
    /// `$Sequence.<anything>`: a new unique id each time it is evaluated. The payload is the text
    /// after the dot (Seata's `entity|rule`, which only names the generator).
    case sequence(String)
    /// `$Exception{Name}`: whether the current failure matches `Name` (`ErrorName.matches`).
    /// `lowercase` records the misspelling `$exception{…}`, accepted with a warning (SL0503).
    case exception(pattern: String, lowercase: Bool)

    /// Reads a leaf. Errors point into `text`: a malformed expression, an unsupported SpEL
    /// construct, or a `$Type` other than `$.`, `$Sequence.` and `$Exception{`.
    public static func parse(_ text: String) throws(ExpressionError) -> LeafExpression {
        guard text.utf8.first == UInt8(ascii: "$") else { return .literal(text) }
        let scalars = text.scalarArray
        let typed = try TypedExpressionText(scalars)
        switch (typed.typeName, typed.delimiter) {
        case ("", .dot):
            return .path(try ExpressionParser.parse(scalars, from: typed.contentOffset), contentOffset: typed.contentOffset)
        case ("Sequence", _):
            return .sequence(typed.content)
        case ("Exception", _), ("exception", _):
            return .exception(pattern: try typed.errorPattern(), lowercase: typed.typeName == "exception")
        default:
            throw typed.unknownType()
        }
    }
}

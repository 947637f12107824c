/// A `Status` key or a `Choices[].Expression`: SpEL without a `$` prefix, or an exception match.
public enum Condition: Sendable, Hashable {
    /// A SpEL expression that must evaluate to a boolean. Offsets are into the condition text
    /// (a `$.`-prefixed condition, which Seata also accepts, keeps offsets past the `$.`).
    case spel(Expr)
    /// `$Exception{…}`, or the misspelling `$exception{…}` (`lowercase: true`, accepted with a
    /// warning, SL0503): true when the current failure matches the pattern.
    case exception(pattern: String, lowercase: Bool)

    /// Reads a condition. A text not starting with `$` is SpEL as a whole.
    public static func parse(_ text: String) throws(ExpressionError) -> Condition {
        let scalars = text.scalarArray
        guard scalars.first == "$" else { return .spel(try ExpressionParser.parse(scalars, from: 0)) }
        let typed = try TypedExpressionText(scalars)
        switch (typed.typeName, typed.delimiter) {
        case ("", .dot):
            return .spel(try ExpressionParser.parse(scalars, from: typed.contentOffset))
        case ("Exception", _), ("exception", _):
            return .exception(pattern: try typed.errorPattern(), lowercase: typed.typeName == "exception")
        case ("Sequence", _):
            throw ExpressionError(.unsupportedExpression,
                "'$Sequence.' makes a new id and cannot be a condition",
                offset: typed.prefixSpan.offset, length: typed.prefixSpan.length)
        default:
            throw typed.unknownType()
        }
    }
}

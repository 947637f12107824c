/// A `$`-prefixed leaf split the way Seata's `DefaultExpressionResolver` splits it: the type is
/// the text between `$` and the first `.` or `{`, whichever comes first; after a dot the content
/// is the rest of the text, after a brace it runs to the first `}`.
///
/// `$.[a]` has type "" (SpEL), `$Sequence.BUSINESS_KEY|SIMPLE` type `Sequence`,
/// `$Exception{java.lang.Exception}` type `Exception` (an old-style form Seata keeps).
struct TypedExpressionText {
    enum Delimiter: Character {
        case dot = "."
        case brace = "{"
    }

    var typeName: String
    var delimiter: Delimiter
    /// Where the content starts in the whole text.
    var contentOffset: Int
    /// Where the content ends (exclusive): the end of the text after a dot, the `}` after a brace.
    private var contentEnd: Int
    private var scalars: [Unicode.Scalar]
    /// `$Type.` or `$Type{`, for messages about the type.
    var prefixSpan: Expr.Span

    /// Splits `scalars`, which must start with `$`.
    init(_ scalars: [Unicode.Scalar]) throws(ExpressionError) {
        precondition(scalars.first == "$")
        guard let split = scalars.firstIndex(where: { $0 == "." || $0 == "{" }) else {
            throw ExpressionError(.expressionSyntax,
                "a value starting with '$' is an expression and needs '.' or '{' after its type, as in '$.[key]' or '$Exception{Timeout}'",
                offset: 0, length: scalars.count)
        }
        typeName = scalars.string(1..<split)
        delimiter = scalars[split] == "." ? .dot : .brace
        contentOffset = split + 1
        prefixSpan = Expr.Span(offset: 0, length: split + 1)
        self.scalars = scalars
        switch delimiter {
        case .dot:
            contentEnd = scalars.count
        case .brace:
            guard let close = scalars[contentOffset...].firstIndex(of: "}") else {
                throw ExpressionError(.expressionSyntax, "expected '}' to close '$\(typeName){'",
                    offset: scalars.count, length: 1)
            }
            if close + 1 < scalars.count {
                throw ExpressionError(.expressionSyntax, "unexpected text after the closing '}'",
                    offset: close + 1, length: scalars.count - close - 1)
            }
            contentEnd = close
        }
    }

    /// The text after the delimiter (up to the `}` after a brace). Made when asked: a `$.` path,
    /// the common case, is parsed from the scalars and never needs it as a string.
    var content: String { scalars.string(contentOffset..<contentEnd) }

    /// The error for a type other than "", `Sequence` and `Exception`.
    func unknownType() -> ExpressionError {
        ExpressionError(.unknownExpressionType,
            "unknown expression type '$\(typeName)\(delimiter.rawValue)'; the supported forms are "
                + "'$.<expression>', '$Sequence.<name>' and '$Exception{<error name>}'",
            offset: prefixSpan.offset, length: prefixSpan.length)
    }

    /// The content of `$Exception{…}` as an error-name pattern; it may not be empty.
    func errorPattern() throws(ExpressionError) -> String {
        guard contentEnd > contentOffset else {
            throw ExpressionError(.expressionSyntax, "expected an error name in '$\(typeName)\(delimiter.rawValue)'",
                offset: contentOffset, length: 1)
        }
        return content
    }
}

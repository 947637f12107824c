/// One token of an expression, with its position in Unicode scalars.
struct ExpressionToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        /// `#name`; the payload is the name without `#`.
        case variable(String)
        case integer(Int)
        case decimal(Double)
        case string(String)

        case leftParen, rightParen, leftBracket, rightBracket, leftBrace, rightBrace, comma
        case dot
        /// `?.`
        case safeNavigation
        case question, colon
        /// `?:`
        case elvis
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
        case and, or, not
        case plus, minus, star, slash, percent
        /// `^` outside a selection: SpEL's power operator.
        case caret
        /// `=`: SpEL's assignment.
        case assign
        case increment, decrement
        /// `@bean` and `&factoryBean` references.
        case at, ampersand
        /// `?[`, `^[`, `$[` directly after `.` or `?.`.
        case select(SelectionKind)
        /// `![` directly after `.` or `?.`: SpEL's projection.
        case project
        case end
    }

    var kind: Kind
    var offset: Int
    var length: Int
    /// The source text of the token (for messages, and to read textual operators such as `and`
    /// back as property names after a dot).
    var text: String

    var span: Expr.Span { Expr.Span(offset: offset, length: length) }

    /// How the token reads in a message: `']'`, `'foo'`, or "the end of the expression".
    var quoted: String {
        if case .end = kind { return "the end of the expression" }
        return "'\(text)'"
    }

    /// Textual spellings of operators, matched case-insensitively as in SpEL.
    static let operatorWords: [String: Kind] = [
        "and": .and, "or": .or, "not": .not,
        "eq": .equal, "ne": .notEqual, "lt": .less, "le": .lessOrEqual, "gt": .greater,
        "ge": .greaterOrEqual, "div": .slash, "mod": .percent,
    ]
    /// The length of the longest of `operatorWords`: a longer name is no operator.
    static let longestOperatorWord = operatorWords.keys.map(\.utf8.count).max() ?? 0
}

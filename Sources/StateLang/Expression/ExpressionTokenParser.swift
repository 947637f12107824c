/// The recursive-descent parser behind `ExpressionParser`: precedence climbing for the binary
/// operators, recursive descent for the rest. Grammar, loosest first (as in SpEL):
///
///     expression := binary(1) [ '?' expression ':' expression | '?:' expression ]
///     binary(p)  := unary { op binary(prec(op)+1) }      -- for ops with prec(op) >= p
///                   || 1, && 2, comparisons 3 (not chainable), + - 4, * / % 5
///     unary      := ('-' | '+' | '!' | 'not') unary | postfix
///     postfix    := primary { '.' member | '?.' member | '[' expression ']' }
///
/// Each rule returns the tree together with its depth, so a long left-leaning chain
/// (`1+1+…+1`) is bounded just like deep parentheses.
struct ExpressionTokenParser {
    typealias Node = (expr: Expr, depth: Int)
    typealias Kind = ExpressionToken.Kind

    let tokens: [ExpressionToken]
    var index = 0
    /// How many `expression` and prefix-operator rules are active: parentheses and brackets
    /// recurse through `expression` without adding a tree node, so the tree depth alone would
    /// not bound the stack. Bounded by `ExpressionParser.maxDepth`.
    var nesting = 0

    init(tokens: [ExpressionToken]) {
        self.tokens = tokens
    }

    var current: ExpressionToken { tokens[index] }

    @discardableResult
    mutating func advance() -> ExpressionToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    /// The whole text must be one expression.
    mutating func parseComplete() throws(ExpressionError) -> Expr {
        let node = try expression()
        let t = current
        switch t.kind {
        case .end:
            return node.expr
        case .rightParen, .rightBracket:
            throw .syntax("unmatched \(t.quoted)", at: t.span)
        case .colon:
            throw .syntax("':' without a matching '?'", at: t.span)
        default:
            throw .syntax("unexpected \(t.quoted) after a complete expression; is an operator missing?", at: t.span)
        }
    }

    /// Builds a node one level deeper than its deepest child.
    func make(_ expr: Expr, _ children: Node?...) throws(ExpressionError) -> Node {
        let depth = (children.compactMap { $0?.depth }.max() ?? 0) + 1
        guard depth <= ExpressionParser.maxDepth else { throw tooDeep(at: expr.span) }
        return (expr, depth)
    }

    func tooDeep(at span: Expr.Span) -> ExpressionError {
        .syntax("the expression nests more than \(ExpressionParser.maxDepth) levels deep", at: span)
    }

    /// Counts one level of nesting; balance with `nesting -= 1`.
    mutating func descend() throws(ExpressionError) {
        nesting += 1
        if nesting > ExpressionParser.maxDepth { throw tooDeep(at: current.span) }
    }

    /// Consumes a token of `kind` or reports what was found instead.
    @discardableResult
    mutating func expect(_ kind: Kind, _ what: String) throws(ExpressionError) -> ExpressionToken {
        guard current.kind == kind else { throw expected(what) }
        return advance()
    }

    func expected(_ what: String) -> ExpressionError {
        syntaxHere("expected \(what), found \(current.quoted)")
    }

    // MARK: Rules
    //
    // The rules on the recursive path (expression, binary, unary, postfix, primary, and the
    // bracketed forms) stay small: branches that do not recurse and the construction of error
    // messages live in separate functions, so that each level of nesting costs little stack
    // even in a debug build (checked by `ExpressionParserTests.nestingFitsInASmallStack`).

    mutating func expression() throws(ExpressionError) -> Node {
        try descend()
        defer { nesting -= 1 }
        let condition = try binary(1)
        switch current.kind {
        case .question, .elvis: return try conditional(condition)
        case .assign: throw unsupportedHere("assignment '=' is not supported (did you mean '=='?)")
        default: return condition
        }
    }

    /// `condition ? a : b` or `value ?: fallback`, at the `?` or `?:`.
    mutating func conditional(_ condition: Node) throws(ExpressionError) -> Node {
        let isElvis = current.kind == .elvis
        let mark = advance().span
        if isElvis {
            let fallback = try expression()
            return try make(.elvis(condition.expr, fallback.expr, mark), condition, fallback)
        }
        let ifTrue = try expression()
        try expect(.colon, "':' after the true branch of '?'")
        let ifFalse = try expression()
        return try make(.ternary(condition.expr, ifTrue.expr, ifFalse.expr, mark), condition, ifTrue, ifFalse)
    }

    mutating func binary(_ minPrecedence: Int) throws(ExpressionError) -> Node {
        var lhs = try unary()
        // Whether `lhs` is a comparison made in this loop: SpEL allows one per operand level.
        var lhsIsComparison = false
        while let (op, precedence) = try infixOperator(), precedence >= minPrecedence {
            if op.isComparison && lhsIsComparison {
                throw syntaxHere("comparisons cannot be chained; combine them with '&&' or use parentheses")
            }
            let mark = advance().span
            let rhs = try binary(precedence + 1)
            lhs = try make(.binary(op, lhs.expr, rhs.expr, mark), lhs, rhs)
            lhsIsComparison = op.isComparison
        }
        return lhs
    }

    /// The binary operator at the current token and its precedence, or nil. SpEL's infix
    /// operators outside the subset are reported by name rather than as stray tokens.
    func infixOperator() throws(ExpressionError) -> (BinaryOperator, Int)? {
        switch current.kind {
        case .or: return (.or, 1)
        case .and: return (.and, 2)
        case .equal: return (.equal, 3)
        case .notEqual: return (.notEqual, 3)
        case .less: return (.less, 3)
        case .lessOrEqual: return (.lessOrEqual, 3)
        case .greater: return (.greater, 3)
        case .greaterOrEqual: return (.greaterOrEqual, 3)
        case .plus: return (.add, 4)
        case .minus: return (.subtract, 4)
        case .star: return (.multiply, 5)
        case .slash: return (.divide, 5)
        case .percent: return (.remainder, 5)
        case .caret:
            throw unsupportedHere("power operator '^' is not supported")
        case .increment, .decrement:
            throw unsupportedHere("increment and decrement operators ('\(current.text)') are not supported")
        case .identifier(let word) where ["matches", "between", "instanceof"].contains(word.lowercased()):
            throw unsupportedHere("operator '\(word)' is not supported")
        default:
            return nil
        }
    }

    mutating func unary() throws(ExpressionError) -> Node {
        guard let op = try prefixOperator() else { return try postfix() }
        let mark = advance().span
        try descend()
        defer { nesting -= 1 }
        let operand = try unary()
        return try make(.unary(op, operand.expr, mark), operand)
    }

    func prefixOperator() throws(ExpressionError) -> UnaryOperator? {
        switch current.kind {
        case .minus: return .negate
        case .plus: return .plus
        case .not: return .not
        case .increment, .decrement:
            throw unsupportedHere("increment and decrement operators ('\(current.text)') are not supported")
        default: return nil
        }
    }

    // MARK: Errors at the current token

    func syntaxHere(_ message: String) -> ExpressionError {
        .syntax(message, at: current.span)
    }

    func unsupportedHere(_ message: String) -> ExpressionError {
        .unsupported(message, at: current.span)
    }
}

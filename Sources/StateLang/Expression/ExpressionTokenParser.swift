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

    /// The kind of the token after the current one (`.end` past the end).
    var following: Kind { index + 1 < tokens.count ? tokens[index + 1].kind : .end }

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
    mutating func expect(_ kind: Kind, _ what: String) throws(ExpressionError) -> ExpressionToken {
        guard current.kind == kind else {
            throw .syntax("expected \(what), found \(current.quoted)", at: current.span)
        }
        return advance()
    }

    // MARK: Rules

    mutating func expression() throws(ExpressionError) -> Node {
        try descend()
        defer { nesting -= 1 }
        let condition = try binary(1)
        let t = current
        switch t.kind {
        case .question:
            advance()
            let ifTrue = try expression()
            _ = try expect(.colon, "':' after the true branch of '?'")
            let ifFalse = try expression()
            return try make(.ternary(condition.expr, ifTrue.expr, ifFalse.expr, t.span), condition, ifTrue, ifFalse)
        case .elvis:
            advance()
            let fallback = try expression()
            return try make(.elvis(condition.expr, fallback.expr, t.span), condition, fallback)
        case .assign:
            throw .unsupported("assignment '=' is not supported (did you mean '=='?)", at: t.span)
        default:
            return condition
        }
    }

    mutating func binary(_ minPrecedence: Int) throws(ExpressionError) -> Node {
        var lhs = try unary()
        // Whether `lhs` is a comparison made in this loop: SpEL allows one per operand level.
        var lhsIsComparison = false
        while true {
            let t = current
            try rejectUnsupportedInfix(t)
            guard let (op, precedence) = Self.binaryOperator(t.kind), precedence >= minPrecedence else {
                return lhs
            }
            if op.isComparison && lhsIsComparison {
                throw .syntax("comparisons cannot be chained; combine them with '&&' or use parentheses", at: t.span)
            }
            advance()
            let rhs = try binary(precedence + 1)
            lhs = try make(.binary(op, lhs.expr, rhs.expr, t.span), lhs, rhs)
            lhsIsComparison = op.isComparison
        }
    }

    static func binaryOperator(_ kind: Kind) -> (BinaryOperator, Int)? {
        switch kind {
        case .or: (.or, 1)
        case .and: (.and, 2)
        case .equal: (.equal, 3)
        case .notEqual: (.notEqual, 3)
        case .less: (.less, 3)
        case .lessOrEqual: (.lessOrEqual, 3)
        case .greater: (.greater, 3)
        case .greaterOrEqual: (.greaterOrEqual, 3)
        case .plus: (.add, 4)
        case .minus: (.subtract, 4)
        case .star: (.multiply, 5)
        case .slash: (.divide, 5)
        case .percent: (.remainder, 5)
        default: nil
        }
    }

    /// SpEL infix operators outside the subset, named rather than reported as stray tokens.
    func rejectUnsupportedInfix(_ t: ExpressionToken) throws(ExpressionError) {
        switch t.kind {
        case .caret:
            throw .unsupported("power operator '^' is not supported", at: t.span)
        case .increment, .decrement:
            throw .unsupported("increment and decrement operators ('\(t.text)') are not supported", at: t.span)
        case .identifier(let word) where ["matches", "between", "instanceof"].contains(word.lowercased()):
            throw .unsupported("operator '\(word)' is not supported", at: t.span)
        default:
            return
        }
    }

    mutating func unary() throws(ExpressionError) -> Node {
        let t = current
        let op: UnaryOperator
        switch t.kind {
        case .minus: op = .negate
        case .plus: op = .plus
        case .not: op = .not
        case .increment, .decrement:
            throw .unsupported("increment and decrement operators ('\(t.text)') are not supported", at: t.span)
        default:
            return try postfix()
        }
        advance()
        try descend()
        defer { nesting -= 1 }
        let operand = try unary()
        return try make(.unary(op, operand.expr, t.span), operand)
    }
}

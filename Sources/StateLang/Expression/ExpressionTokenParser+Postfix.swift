/// Primaries (literals, names, `#root`, `[key]`, parentheses) and the accessor chains that
/// follow them (`.name`, `?.name`, `[i]`, `.size()`, `.?[…]`).
///
/// Only `postfix`, `member`, `primary`, `indexer`, `selection` and `parenthesized` can recurse;
/// names, literals and every error live in `atom`, `namedMember` and friends, which do not.
extension ExpressionTokenParser {
    mutating func postfix() throws(ExpressionError) -> Node {
        var node = try primary()
        while true {
            switch current.kind {
            case .dot, .safeNavigation: node = try member(of: node)
            case .leftBracket: node = try indexer(target: node, from: current.offset, nullSafe: false)
            default: return node
            }
        }
    }

    /// What follows `.` or `?.`: a property, `size()`, a selection, or (as SpEL allows) `[i]`.
    mutating func member(of target: Node) throws(ExpressionError) -> Node {
        let nullSafe = current.kind == .safeNavigation
        let start = advance().offset
        switch current.kind {
        case .select(let kind): return try selection(kind, of: target, from: start, nullSafe: nullSafe)
        case .leftBracket: return try indexer(target: target, from: start, nullSafe: nullSafe)
        default: return try namedMember(of: target, from: start, nullSafe: nullSafe)
        }
    }

    /// `.?[condition]`, `.^[…]` or `.$[…]`, at the selection bracket.
    mutating func selection(_ kind: SelectionKind, of target: Node, from start: Int, nullSafe: Bool) throws(ExpressionError) -> Node {
        advance()
        if current.kind == .rightBracket { throw syntaxHere("expected a condition inside '\(kind.rawValue)]'") }
        let condition = try expression()
        let close = try expect(.rightBracket, "']' to close '\(kind.rawValue)'")
        let span = Expr.Span(offset: start, length: close.offset + 1 - start)
        return try make(.selection(target.expr, kind, condition.expr, nullSafe: nullSafe, span), target, condition)
    }

    /// `[expression]`, on `target` or (target `nil`) on the current object. `start` is where the
    /// accessor begins: the `[`, or the dot of `.[` / `?.[`.
    mutating func indexer(target: Node?, from start: Int, nullSafe: Bool) throws(ExpressionError) -> Node {
        advance()  // [
        if current.kind == .rightBracket { throw syntaxHere("expected a key or an index inside '[]'") }
        let key = try expression()
        let close = try expect(.rightBracket, "']' to close '['")
        let span = Expr.Span(offset: start, length: close.offset + 1 - start)
        return try make(.index(target?.expr, key.expr, nullSafe: nullSafe, span), target, key)
    }

    mutating func primary() throws(ExpressionError) -> Node {
        switch current.kind {
        case .leftParen: return try parenthesized()
        case .leftBracket: return try indexer(target: nil, from: current.offset, nullSafe: false)
        default: return try atom()
        }
    }

    /// `(expression)`; parentheses leave no node in the tree.
    mutating func parenthesized() throws(ExpressionError) -> Node {
        advance()
        if current.kind == .rightParen { throw syntaxHere("expected an expression inside '()'") }
        let inner = try expression()
        try expect(.rightParen, "')' to close '('")
        return inner
    }

    // MARK: Non-recursive parts

    /// A name after a dot, with or without `()`. Textual operators (`and`, `eq`…) are names
    /// there: a key may be called `or`, and nothing else can follow a dot.
    mutating func namedMember(of target: Node, from start: Int, nullSafe: Bool) throws(ExpressionError) -> Node {
        let t = current
        let name: String
        if case .identifier(let identifier) = t.kind {
            name = identifier
        } else if ExpressionToken.operatorWords[t.text.lowercased()] != nil {
            name = t.text
        } else if case .project = t.kind {
            throw unsupportedHere("projection '.![…]' is not supported")
        } else if case .variable(let variable) = t.kind {
            let dot = nullSafe ? "?." : "."
            throw unsupportedHere("'\(dot)#\(variable)' (a variable or function after '\(dot)') is not supported")
        } else {
            throw expected("a property name, 'size()' or a selection after '\(nullSafe ? "?." : ".")'")
        }
        advance()
        if current.kind == .leftParen {
            return try methodCall(name: name, token: t, target: target, nullSafe: nullSafe, from: start)
        }
        let span = Expr.Span(offset: start, length: t.offset + t.length - start)
        return try make(.property(target.expr, name: name, nullSafe: nullSafe, span), target)
    }

    /// `name(` has been read up to the parenthesis. Only `size()` is supported.
    mutating func methodCall(
        name: String, token: ExpressionToken, target: Node?, nullSafe: Bool, from start: Int
    ) throws(ExpressionError) -> Node {
        guard name == "size" else {
            throw .unsupported("method call '\(name)' is not supported (only 'size()' is)", at: token.span)
        }
        advance()  // (
        let close = try expect(.rightParen, "')': 'size()' takes no arguments")
        let span = Expr.Span(offset: start, length: close.offset + 1 - start)
        return try make(.size(target?.expr, nullSafe: nullSafe, span), target)
    }

    /// A literal, a name, a variable, or one of SpEL's constructs outside the subset.
    mutating func atom() throws(ExpressionError) -> Node {
        let t = current
        switch t.kind {
        case .integer(let value):
            advance()
            return try make(.literal(.int(value), t.span))
        case .decimal(let value):
            advance()
            return try make(.literal(.double(value), t.span))
        case .string(let value):
            advance()
            return try make(.literal(.string(value), t.span))
        case .identifier(let name):
            return try identifierAtom(name, token: t)
        case .variable(let name):
            advance()
            if current.kind == .leftParen {
                throw .unsupported("function call '#\(name)(…)' is not supported", at: t.span)
            }
            switch name {
            case "root": return try make(.root(t.span))
            case "this": return try make(.this(t.span))
            default:
                throw .unsupported("variable '#\(name)' is not supported; only '#root' and '#this' are defined", at: t.span)
            }
        case .at, .ampersand:
            let what = t.kind == .at ? "bean reference" : "factory bean reference"
            advance()
            var span = t.span
            if case .identifier = current.kind { span = span.union(current.span) }
            throw .unsupported("\(what) '\(t.text)…' is not supported", at: span)
        case .leftBrace:
            throw unsupportedHere("inline list or map '{…}' is not supported")
        default:
            throw expected("an expression")
        }
    }

    /// An identifier in primary position: a keyword literal, a property of the current object,
    /// `size()`, or one of SpEL's constructs that start with a name (`new`, `T(…)`, calls).
    mutating func identifierAtom(_ name: String, token t: ExpressionToken) throws(ExpressionError) -> Node {
        advance()
        // SpEL reads these keywords case-insensitively.
        switch name.lowercased() {
        case "true": return try make(.literal(.bool(true), t.span))
        case "false": return try make(.literal(.bool(false), t.span))
        case "null": return try make(.literal(.null, t.span))
        case "new":
            if case .identifier = current.kind {
                throw .unsupported("constructor call 'new' is not supported", at: t.span.union(current.span))
            }
        default:
            break
        }
        if current.kind == .leftParen {
            if name == "T" { throw .unsupported("type reference 'T(…)' is not supported", at: t.span) }
            return try methodCall(name: name, token: t, target: nil, nullSafe: false, from: t.offset)
        }
        return try make(.property(nil, name: name, nullSafe: false, t.span))
    }
}

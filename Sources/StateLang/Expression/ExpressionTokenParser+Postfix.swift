/// Primaries (literals, names, `#root`, `[key]`, parentheses) and the accessor chains that
/// follow them (`.name`, `?.name`, `[i]`, `.size()`, `.?[…]`).
extension ExpressionTokenParser {
    mutating func postfix() throws(ExpressionError) -> Node {
        var node = try primary()
        while true {
            let t = current
            switch t.kind {
            case .dot, .safeNavigation:
                advance()
                node = try member(of: node, after: t)
            case .leftBracket:
                node = try indexer(target: node, from: t.offset)
            default:
                return node
            }
        }
    }

    /// What follows `.` or `?.`: a property, `size()`, a selection, or (as SpEL allows) `[i]`.
    mutating func member(of target: Node, after dot: ExpressionToken) throws(ExpressionError) -> Node {
        let nullSafe = dot.kind == .safeNavigation
        let t = current
        if let name = Self.memberName(t) {
            advance()
            if current.kind == .leftParen {
                return try methodCall(name: name, token: t, target: target, nullSafe: nullSafe, from: dot.offset)
            }
            let span = Expr.Span(offset: dot.offset, length: t.offset + t.length - dot.offset)
            return try make(.property(target.expr, name: name, nullSafe: nullSafe, span), target)
        }
        switch t.kind {
        case .select(let kind):
            advance()
            if current.kind == .rightBracket {
                throw .syntax("expected a condition inside '\(kind.rawValue)]'", at: current.span)
            }
            let condition = try expression()
            let close = try expect(.rightBracket, "']' to close '\(kind.rawValue)'")
            let span = Expr.Span(offset: dot.offset, length: close.offset + 1 - dot.offset)
            return try make(.selection(target.expr, kind, condition.expr, nullSafe: nullSafe, span), target, condition)
        case .project:
            throw .unsupported("projection '.![…]' is not supported", at: t.span)
        case .leftBracket:
            return try indexer(target: target, from: dot.offset)
        case .variable(let name):
            throw .unsupported("'\(dot.text)#\(name)' (a variable or function after '\(dot.text)') is not supported", at: t.span)
        default:
            throw .syntax("expected a property name, 'size()' or a selection after '\(dot.text)', found \(t.quoted)", at: t.span)
        }
    }

    /// A name after a dot. Textual operators (`and`, `eq`…) are names there: a key may be
    /// called `or`, and nothing else can follow a dot.
    static func memberName(_ t: ExpressionToken) -> String? {
        if case .identifier(let name) = t.kind { return name }
        if ExpressionToken.operatorWords[t.text.lowercased()] != nil { return t.text }
        return nil
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

    /// `[expression]`, on `target` or (target `nil`) on the current object. `start` is where the
    /// accessor begins: the `[`, or the dot of `.[`.
    mutating func indexer(target: Node?, from start: Int) throws(ExpressionError) -> Node {
        advance()  // [
        if current.kind == .rightBracket {
            throw .syntax("expected a key or an index inside '[]'", at: current.span)
        }
        let key = try expression()
        let close = try expect(.rightBracket, "']' to close '['")
        let span = Expr.Span(offset: start, length: close.offset + 1 - start)
        return try make(.index(target?.expr, key.expr, span), target, key)
    }

    mutating func primary() throws(ExpressionError) -> Node {
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
            return try identifierPrimary(name, token: t)
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
        case .leftBracket:
            return try indexer(target: nil, from: t.offset)
        case .leftParen:
            advance()
            if current.kind == .rightParen {
                throw .syntax("expected an expression inside '()'", at: current.span)
            }
            let inner = try expression()
            _ = try expect(.rightParen, "')' to close '('")
            return inner
        case .at, .ampersand:
            let what = t.kind == .at ? "bean reference" : "factory bean reference"
            advance()
            var span = t.span
            if case .identifier = current.kind { span = span.union(current.span) }
            throw .unsupported("\(what) '\(t.text)…' is not supported", at: span)
        case .leftBrace:
            throw .unsupported("inline list or map '{…}' is not supported", at: t.span)
        case .end:
            throw .syntax("expected an expression, found the end of the expression", at: t.span)
        default:
            throw .syntax("expected an expression, found \(t.quoted)", at: t.span)
        }
    }

    /// An identifier in primary position: a keyword literal, a property of the current object,
    /// `size()`, or one of SpEL's constructs that start with a name (`new`, `T(…)`, calls).
    mutating func identifierPrimary(_ name: String, token t: ExpressionToken) throws(ExpressionError) -> Node {
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

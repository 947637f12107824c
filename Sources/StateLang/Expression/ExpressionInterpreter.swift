/// Walks an `Expr` for `Evaluator`. Recursion follows the tree, whose depth the parser bounds.
///
/// As in SpEL there are two "current" objects: `#root`, fixed, and the active object (`#this`)
/// that bare names, `[key]` and `size()` read from; a selection makes each element active in
/// turn. The key inside `[…]` is evaluated with the root active again, as SpEL does, except that
/// a bare name used as a map key is the key itself (`[orderId]` reads key "orderId").
struct ExpressionInterpreter {
    let root: JSONValue

    func value(of expr: Expr, this: JSONValue) throws(EvaluationError) -> JSONValue {
        switch expr {
        case .literal(let value, _):
            return value
        case .root:
            return root
        case .this:
            return this
        case .property(let target, let name, let nullSafe, let span):
            let base = try target.map { e throws(EvaluationError) in try value(of: e, this: this) } ?? this
            switch base {
            case .object(let members):
                return members[name] ?? .null
            case .null:
                if nullSafe { return .null }
                throw EvaluationError("cannot read '\(name)' of null", at: span)
            default:
                throw EvaluationError("cannot read '\(name)' of \(base.kindDescription)", at: span)
            }
        case .index(let target, let key, let span):
            let base = try target.map { e throws(EvaluationError) in try value(of: e, this: this) } ?? this
            return try index(base, by: key, at: span)
        case .size(let target, let nullSafe, let span):
            let base = try target.map { e throws(EvaluationError) in try value(of: e, this: this) } ?? this
            switch base {
            case .array(let elements): return .int(elements.count)
            case .object(let members): return .int(members.count)
            case .string(let text): return .int(text.unicodeScalars.count)
            case .null:
                if nullSafe { return .null }
                throw EvaluationError("cannot call size() on null", at: span)
            default:
                throw EvaluationError("size() needs a list, a map or a string, not \(base.kindDescription)", at: span)
            }
        case .selection(let target, let kind, let condition, let nullSafe, let span):
            let base = try value(of: target, this: this)
            return try select(kind, from: base, where: condition, nullSafe: nullSafe, at: span)
        case .unary(let op, let operand, let span):
            return try unary(op, try value(of: operand, this: this), at: span)
        case .binary(let op, let lhs, let rhs, _):
            return try binary(op, lhs, rhs, this: this, at: expr.extent)
        case .ternary(let condition, let ifTrue, let ifFalse, _):
            let test = try value(of: condition, this: this)
            guard case .bool(let holds) = test else {
                throw EvaluationError("the condition before '?' must be a boolean, not \(test.kindDescription)",
                    at: condition.extent)
            }
            return try value(of: holds ? ifTrue : ifFalse, this: this)
        case .elvis(let primary, let fallback, _):
            // SpEL's Elvis treats an empty string like null.
            let first = try value(of: primary, this: this)
            switch first {
            case .null, .string(""): return try value(of: fallback, this: this)
            default: return first
            }
        }
    }

    /// `base[key]`: a map by key, a list or string by position.
    private func index(_ base: JSONValue, by key: Expr, at span: Expr.Span) throws(EvaluationError) -> JSONValue {
        switch base {
        case .object(let members):
            if case .property(nil, let name, _, _) = key { return members[name] ?? .null }
            let k = try value(of: key, this: root)
            switch k {
            case .string(let s): return members[s] ?? .null
            case .int(let i): return members[String(i)] ?? .null
            default:
                throw EvaluationError("a map key must be a string or an integer, not \(k.kindDescription)", at: key.extent)
            }
        case .array(let elements):
            let i = try position(key, count: elements.count)
            return elements[i]
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            let i = try position(key, count: scalars.count)
            return .string(String(scalars[i]))
        case .null:
            if case .property(nil, let name, _, _) = key {
                throw EvaluationError("cannot read '\(name)' of null", at: span)
            }
            if case .literal(.string(let name), _) = key {
                throw EvaluationError("cannot read '\(name)' of null", at: span)
            }
            throw EvaluationError("cannot index into null", at: span)
        default:
            throw EvaluationError("cannot index into \(base.kindDescription)", at: span)
        }
    }

    /// A list or string position: an integer (or a whole decimal) within `0..<count`.
    private func position(_ key: Expr, count: Int) throws(EvaluationError) -> Int {
        let k = try value(of: key, this: root)
        let i: Int
        switch k {
        case .int(let v): i = v
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: i = Int(d)
        default:
            throw EvaluationError("a list index must be an integer, not \(k.kindDescription)", at: key.extent)
        }
        guard i >= 0 && i < count else {
            throw EvaluationError("index \(i) is out of bounds (there are \(count) elements)", at: key.extent)
        }
        return i
    }

    private func select(
        _ kind: SelectionKind, from base: JSONValue, where condition: Expr, nullSafe: Bool, at span: Expr.Span
    ) throws(EvaluationError) -> JSONValue {
        let elements: [JSONValue]
        switch base {
        case .array(let list): elements = list
        case .null:
            if nullSafe { return .null }
            throw EvaluationError("cannot select from null", at: span)
        default:
            throw EvaluationError("a selection needs a list, not \(base.kindDescription)", at: span)
        }
        var matches: [JSONValue] = []
        for element in elements {
            let test = try value(of: condition, this: element)
            guard case .bool(let keep) = test else {
                throw EvaluationError("a selection condition must be a boolean, not \(test.kindDescription)",
                    at: condition.extent)
            }
            guard keep else { continue }
            if kind == .first { return element }
            matches.append(element)
        }
        switch kind {
        case .all: return .array(matches)
        case .first: return .null
        case .last: return matches.last ?? .null
        }
    }
}

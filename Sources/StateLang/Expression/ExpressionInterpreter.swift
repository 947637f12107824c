/// Walks an `Expr` for `Evaluator`. Recursion follows the tree, whose depth the parser bounds;
/// `value(of:this:)` only dispatches, so each level of the tree costs one small frame plus the
/// frame of the case being evaluated.
///
/// As in SpEL there are two "current" objects: `#root`, fixed, and the active object (`#this`)
/// that bare names, `[key]` and `size()` read from; a selection makes each element active in
/// turn. The key inside `[…]` is evaluated with the root active again, as SpEL does, except that
/// a bare name used as a map key is the key itself (`[orderId]` reads key "orderId").
struct ExpressionInterpreter {
    /// The most nodes one evaluation may evaluate. The parser bounds the tree, not the work:
    /// selections nest, and each one evaluates its condition once per element, so a short
    /// expression of sixteen nested selections over a three-element list takes 3^16 steps
    /// (found by the expression fuzzer), and two nested ones over 100,000 elements 10^10. The
    /// limit turns such a hang into an error. A selection over a 100,000-element list with a
    /// condition of a few nodes stays under it; a debug build takes about a second to get there.
    static let maxSteps = 1_000_000

    /// Steps left, shared by the copies of this value that recursion makes.
    private final class Budget {
        var remaining = ExpressionInterpreter.maxSteps
    }

    let root: JSONValue
    private let budget = Budget()

    init(root: JSONValue) {
        self.root = root
    }

    func value(of expr: Expr, this: JSONValue) throws(EvaluationError) -> JSONValue {
        budget.remaining -= 1
        if budget.remaining < 0 {
            throw EvaluationError(
                "evaluation stopped after \(Self.maxSteps) steps; nested selections over large lists multiply "
                    + "the work: select once, or move the computation into a service", at: expr.extent)
        }
        switch expr {
        case .literal(let value, _): return value
        case .root: return root
        case .this: return this
        case .property(let target, let name, let nullSafe, let span):
            return try property(name, of: base(target, this), nullSafe: nullSafe, at: span)
        case .index(let target, let key, let nullSafe, let span):
            return try index(base(target, this), by: key, nullSafe: nullSafe, at: span)
        case .size(let target, let nullSafe, let span):
            return try size(of: base(target, this), nullSafe: nullSafe, at: span)
        case .selection(let target, let kind, let condition, let nullSafe, let span):
            return try select(kind, from: value(of: target, this: this), where: condition, nullSafe: nullSafe, at: span)
        case .unary(let op, let operand, let span):
            return try unary(op, value(of: operand, this: this), at: span)
        case .binary(let op, let lhs, let rhs, _):
            return try binary(op, lhs, rhs, this: this, node: expr)
        case .ternary(let condition, let ifTrue, let ifFalse, _):
            return try conditional(condition, ifTrue, ifFalse, this: this)
        case .elvis(let primary, let fallback, _):
            // SpEL's Elvis treats an empty string like null.
            let first = try value(of: primary, this: this)
            if first == .null || first == .string("") { return try value(of: fallback, this: this) }
            return first
        }
    }

    /// The object an accessor applies to: its target, or the active object when it has none.
    private func base(_ target: Expr?, _ this: JSONValue) throws(EvaluationError) -> JSONValue {
        guard let target else { return this }
        return try value(of: target, this: this)
    }

    private func property(_ name: String, of base: JSONValue, nullSafe: Bool, at span: Expr.Span) throws(EvaluationError) -> JSONValue {
        switch base {
        case .object(let members):
            return members[name] ?? .null
        case .null:
            if nullSafe { return .null }
            throw EvaluationError("cannot read '\(name)' of null", at: span)
        default:
            throw EvaluationError("cannot read '\(name)' of \(base.kindDescription)", at: span)
        }
    }

    private func size(of base: JSONValue, nullSafe: Bool, at span: Expr.Span) throws(EvaluationError) -> JSONValue {
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
    }

    private func conditional(_ condition: Expr, _ ifTrue: Expr, _ ifFalse: Expr, this: JSONValue) throws(EvaluationError) -> JSONValue {
        let test = try value(of: condition, this: this)
        guard case .bool(let holds) = test else {
            throw EvaluationError("the condition before '?' must be a boolean, not \(test.kindDescription)",
                at: condition.extent)
        }
        return try value(of: holds ? ifTrue : ifFalse, this: this)
    }

    /// `base[key]`: a map by key, a list or string by position.
    private func index(_ base: JSONValue, by key: Expr, nullSafe: Bool, at span: Expr.Span) throws(EvaluationError) -> JSONValue {
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
            return elements[try position(key, count: elements.count)]
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            return .string(String(scalars[try position(key, count: scalars.count)]))
        case .null:
            if nullSafe { return .null }
            switch key {
            case .property(nil, let name, _, _), .literal(.string(let name), _):
                throw EvaluationError("cannot read '\(name)' of null", at: span)
            default:
                throw EvaluationError("cannot index into null", at: span)
            }
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

@testable import StateLang

/// Derives, from a parsed expression, a root that provides everything the expression reads:
/// `[people].name` needs `{"people": {"name": …}}`, `[l].?[#this[x] == null].size()` needs a
/// list of maps, an operand of `<` or `-` needs a number, an operand of `&&` a boolean.
///
/// Every value it invents is non-null, so a path evaluated against the result must not be null.
final class ExpressionSampleRoot {
    /// What is known about one value the expression reads.
    final class Shape {
        enum Kind { case unknown, number, boolean, string, map, list, sized }
        var kind = Kind.unknown
        var members: [String: Shape] = [:]
        var element: Shape?

        /// Records a requirement; the first concrete one wins (a conflict then shows up as an
        /// evaluation error, which is what the test is for).
        func require(_ need: Kind) {
            switch (kind, need) {
            case (_, .unknown): break
            case (.unknown, _), (.sized, .map), (.sized, .list), (.sized, .string): kind = need
            default: break
            }
        }

        func member(_ name: String) -> Shape {
            require(.map)
            if let existing = members[name] { return existing }
            let shape = Shape()
            members[name] = shape
            return shape
        }

        func elementShape() -> Shape {
            require(.list)
            if let existing = element { return existing }
            let shape = Shape()
            element = shape
            return shape
        }

        func value(isRoot: Bool = false) -> JSONValue {
            switch kind {
            // The root of a Seata expression is a map (the context or a result).
            case .unknown: isRoot ? .object([:]) : 1
            case .number: 1
            case .boolean: true
            case .string: "s"
            case .map: .object(members.mapValues { $0.value() })
            case .list: [element?.value() ?? 1]
            case .sized: [1]
            }
        }
    }

    let root = Shape()

    /// A root for `expr`.
    static func build(for expr: Expr) -> JSONValue {
        let sample = ExpressionSampleRoot()
        sample.visit(expr, this: sample.root, need: .unknown)
        return sample.root.value(isRoot: true)
    }

    /// Records what `expr` reads, relative to `this` (the active object), and that its own
    /// value must be of kind `need`. Returns the shape it denotes when it is a path.
    @discardableResult
    func visit(_ expr: Expr, this: Shape, need: Shape.Kind) -> Shape? {
        var path: Shape?
        switch expr {
        case .literal:
            break
        case .root:
            path = root
        case .this:
            path = this
        case .property(let target, let name, _, _):
            let base = target.map { visit($0, this: this, need: .map) } ?? this
            path = base?.member(name)
        case .index(let target, let key, _, _):
            let base = target.map { visit($0, this: this, need: .unknown) } ?? this
            switch key {
            case .property(nil, let name, _, _), .literal(.string(let name), _):
                path = base?.member(name)
            case .literal(.int, _):
                path = base?.elementShape()
            default:
                // A computed key: read from the root; whatever it yields is not modelled.
                visit(key, this: root, need: .unknown)
            }
        case .size(let target, _, _):
            let base = target.map { visit($0, this: this, need: .sized) } ?? this
            base?.require(.sized)
        case .selection(let target, _, let condition, _, _):
            let element = visit(target, this: this, need: .list)?.elementShape() ?? Shape()
            visit(condition, this: element, need: .boolean)
        case .unary(let op, let operand, _):
            visit(operand, this: this, need: op == .not ? .boolean : .number)
        case .binary(let op, let lhs, let rhs, _):
            let operandNeed: Shape.Kind
            switch op {
            case .and, .or: operandNeed = .boolean
            case .equal, .notEqual: operandNeed = .unknown
            default:
                // Ordering and arithmetic work on numbers, or strings beside a string literal.
                let textual = [lhs, rhs].contains { if case .literal(.string, _) = $0 { true } else { false } }
                operandNeed = textual ? .string : .number
            }
            visit(lhs, this: this, need: operandNeed)
            visit(rhs, this: this, need: operandNeed)
        case .ternary(let condition, let ifTrue, let ifFalse, _):
            visit(condition, this: this, need: .boolean)
            visit(ifTrue, this: this, need: need)
            visit(ifFalse, this: this, need: need)
        case .elvis(let value, let fallback, _):
            visit(value, this: this, need: need)
            visit(fallback, this: this, need: need)
        }
        path?.require(need)
        return path
    }
}

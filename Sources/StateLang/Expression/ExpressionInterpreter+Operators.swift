/// Unary and binary operators. Messages name the kinds of the operands, never their values:
/// the values are workflow data.
extension ExpressionInterpreter {
    func unary(_ op: UnaryOperator, _ operand: JSONValue, at span: Expr.Span) throws(EvaluationError) -> JSONValue {
        switch (op, operand) {
        case (.not, .bool(let b)):
            return .bool(!b)
        case (.negate, .int(let i)):
            guard i != .min else { throw EvaluationError("integer overflow in '-'", at: span) }
            return .int(-i)
        case (.negate, .double(let d)):
            return .double(-d)
        case (.plus, .int), (.plus, .double):
            return operand
        case (.not, _):
            throw EvaluationError("'!' needs a boolean, not \(operand.kindDescription)", at: span)
        case (.negate, _), (.plus, _):
            throw EvaluationError("'\(op.rawValue)' needs a number, not \(operand.kindDescription)", at: span)
        }
    }

    /// `node` is the whole binary expression: errors about its operands point at its extent.
    func binary(
        _ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, this: JSONValue, node: Expr
    ) throws(EvaluationError) -> JSONValue {
        switch op {
        case .and, .or:
            // Short-circuit: the right side is not evaluated when the left decides.
            let left = try boolean(lhs, side: "left", of: op, this: this)
            if op == .and ? !left : left { return .bool(left) }
            return .bool(try boolean(rhs, side: "right", of: op, this: this))
        case .equal:
            return .bool(Self.equal(try value(of: lhs, this: this), try value(of: rhs, this: this)))
        case .notEqual:
            return .bool(!Self.equal(try value(of: lhs, this: this), try value(of: rhs, this: this)))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            return .bool(try order(op, try value(of: lhs, this: this), try value(of: rhs, this: this), node: node))
        case .add, .subtract, .multiply, .divide, .remainder:
            return try arithmetic(op, try value(of: lhs, this: this), try value(of: rhs, this: this), node: node)
        }
    }

    private func boolean(_ expr: Expr, side: String, of op: BinaryOperator, this: JSONValue) throws(EvaluationError) -> Bool {
        let v = try value(of: expr, this: this)
        guard case .bool(let b) = v else {
            throw EvaluationError("'\(op.rawValue)' needs booleans, but its \(side) side is \(v.kindDescription)",
                at: expr.extent)
        }
        return b
    }

    /// Deep equality; integers and decimals compare as numbers at every level.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.int, .double), (.double, .int), (.double, .double): return a.doubleValue == b.doubleValue
        case (.array(let xs), .array(let ys)):
            return xs.count == ys.count && zip(xs, ys).allSatisfy { equal($0, $1) }
        case (.object(let xs), .object(let ys)):
            return xs.count == ys.count && xs.allSatisfy { key, x in ys[key].map { equal(x, $0) } ?? false }
        default:
            return a == b
        }
    }

    private func order(_ op: BinaryOperator, _ a: JSONValue, _ b: JSONValue, node: Expr) throws(EvaluationError) -> Bool {
        let comparison: Int
        switch (a, b) {
        case (.int(let x), .int(let y)):
            comparison = x < y ? -1 : (x == y ? 0 : 1)
        case (.int, .double), (.double, .int), (.double, .double):
            let (x, y) = (a.doubleValue!, b.doubleValue!)
            comparison = x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)):
            // Java's String.compareTo orders by UTF-16 code units; so do we.
            comparison = x.utf16.elementsEqual(y.utf16) ? 0 : (x.utf16.lexicographicallyPrecedes(y.utf16) ? -1 : 1)
        default:
            throw EvaluationError(
                "'\(op.rawValue)' compares two numbers or two strings, not \(a.kindDescription) and \(b.kindDescription)",
                at: node.extent)
        }
        switch op {
        case .less: return comparison < 0
        case .lessOrEqual: return comparison <= 0
        case .greater: return comparison > 0
        default: return comparison >= 0
        }
    }

    private func arithmetic(_ op: BinaryOperator, _ a: JSONValue, _ b: JSONValue, node: Expr) throws(EvaluationError) -> JSONValue {
        if op == .add, a.stringValue != nil || b.stringValue != nil {
            return .string(Self.text(a) + Self.text(b))
        }
        switch (a, b) {
        case (.int(let x), .int(let y)):
            return .int(try integer(op, x, y, node: node))
        case (.int, .double), (.double, .int), (.double, .double):
            let (x, y) = (a.doubleValue!, b.doubleValue!)
            let result: Double
            switch op {
            case .add: result = x + y
            case .subtract: result = x - y
            case .multiply: result = x * y
            case .divide, .remainder:
                guard y != 0 else { throw EvaluationError("division by zero", at: node.extent) }
                result = op == .divide ? x / y : x.truncatingRemainder(dividingBy: y)
            default: preconditionFailure("not arithmetic")
            }
            guard result.isFinite else { throw EvaluationError("the result of '\(op.rawValue)' is too large", at: node.extent) }
            return .double(result)
        default:
            let needs = op == .add ? "numbers or a string" : "numbers"
            throw EvaluationError(
                "'\(op.rawValue)' needs \(needs), not \(a.kindDescription) and \(b.kindDescription)", at: node.extent)
        }
    }

    /// Integer arithmetic as in Java (division truncates, the remainder takes the dividend's
    /// sign), except that overflow is an error rather than a silent wrap.
    private func integer(_ op: BinaryOperator, _ x: Int, _ y: Int, node: Expr) throws(EvaluationError) -> Int {
        let (result, overflow): (Int, Bool)
        switch op {
        case .add: (result, overflow) = x.addingReportingOverflow(y)
        case .subtract: (result, overflow) = x.subtractingReportingOverflow(y)
        case .multiply: (result, overflow) = x.multipliedReportingOverflow(by: y)
        case .divide, .remainder:
            guard y != 0 else { throw EvaluationError("division by zero", at: node.extent) }
            (result, overflow) = op == .divide ? x.dividedReportingOverflow(by: y) : x.remainderReportingOverflow(dividingBy: y)
        default: preconditionFailure("not arithmetic")
        }
        guard !overflow else { throw EvaluationError("integer overflow in '\(op.rawValue)'", at: node.extent) }
        return result
    }

    /// A value as `+` appends it to a string: strings as they are, numbers and booleans as
    /// written, null as "null", lists and maps as compact JSON.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): JSONValue.format(d)
        case .array, .object: value.jsonString()
        }
    }
}

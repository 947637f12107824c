@testable import StateLang

/// Helpers shared by the expression tests.
enum ExpressionTestSupport {
    /// A compact prefix form of a tree, so tests can state its shape in one line:
    /// `[a] == 1 || b.c` reads `(|| (== [a] 1) (. b c))`.
    static func sexpr(_ e: Expr) -> String {
        switch e {
        case .literal(.string(let s), _): return "'\(s)'"
        case .literal(let v, _): return v.description
        case .root: return "#root"
        case .this: return "#this"
        case .property(nil, let name, _, _): return name
        case .property(let t?, let name, let nullSafe, _): return "(\(nullSafe ? "?." : ".") \(sexpr(t)) \(name))"
        case .index(nil, let key, _, _): return "[\(sexpr(key))]"
        case .index(let t?, let key, let nullSafe, _): return "(\(nullSafe ? "?idx" : "idx") \(sexpr(t)) \(sexpr(key)))"
        case .size(nil, _, _): return "(size)"
        case .size(let t?, let nullSafe, _): return "(\(nullSafe ? "?size" : "size") \(sexpr(t)))"
        case .selection(let t, let kind, let c, _, _): return "(\(kind.rawValue) \(sexpr(t)) \(sexpr(c)))"
        case .unary(let op, let x, _): return "(\(op.rawValue) \(sexpr(x)))"
        case .binary(let op, let l, let r, _): return "(\(op.rawValue) \(sexpr(l)) \(sexpr(r)))"
        case .ternary(let c, let t, let f, _): return "(? \(sexpr(c)) \(sexpr(t)) \(sexpr(f)))"
        case .elvis(let a, let b, _): return "(?: \(sexpr(a)) \(sexpr(b)))"
        }
    }

    /// The tree of `text` in prefix form, or the error text when it does not parse.
    static func shape(_ text: String) -> String {
        do { return sexpr(try ExpressionParser.parse(text)) } catch { return "error: \(error.message)" }
    }

    static func parseError(_ text: String) -> ExpressionError? {
        do {
            _ = try ExpressionParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    static func leafError(_ text: String) -> ExpressionError? {
        do {
            _ = try LeafExpression.parse(text)
            return nil
        } catch {
            return error
        }
    }

    static func conditionError(_ text: String) -> ExpressionError? {
        do {
            _ = try Condition.parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// Parses and evaluates; a parse failure is a test bug, so it traps with the message.
    static func eval(_ text: String, _ root: JSONValue = [:]) throws(EvaluationError) -> JSONValue {
        let expr: Expr
        do { expr = try ExpressionParser.parse(text) } catch { fatalError("\(text): \(error)") }
        return try Evaluator.evaluate(expr, root: root)
    }

    static func evalError(_ text: String, _ root: JSONValue = [:]) -> EvaluationError? {
        do {
            _ = try eval(text, root)
            return nil
        } catch {
            return error
        }
    }
}

/// Evaluates expressions, conditions and leaves over JSON values.
///
/// Semantics (DESIGN §3.3): a missing key reads as `null`; reading through `null` is an error
/// except after `?.`; `==` is deep equality with integers and decimals compared as numbers;
/// `<`-style comparisons need two numbers or two strings; arithmetic needs numbers (integers
/// stay integers, overflow and division by zero are errors) and `+` concatenates when either
/// side is a string; `&&`, `||`, `!` and `?:` conditions need booleans.
public enum Evaluator {
    /// The value of `expr` with `root` as `#root` (and as the object that bare names and `[key]`
    /// read from).
    public static func evaluate(_ expr: Expr, root: JSONValue) throws(EvaluationError) -> JSONValue {
        try ExpressionInterpreter(root: root).value(of: expr, this: root)
    }

    /// Whether a condition holds.
    ///
    /// A SpEL condition must evaluate to a boolean; anything else (null included, as when the
    /// key it reads is missing) is an `EvaluationError` naming what it got. An exception
    /// condition is true when `error` matches its pattern, and false when there is no error.
    public static func test(_ condition: Condition, root: JSONValue, error: ErrorName?) throws(EvaluationError) -> Bool {
        switch condition {
        case .spel(let expr):
            let value = try evaluate(expr, root: root)
            guard case .bool(let result) = value else {
                throw EvaluationError("a condition must be a boolean, but this one is \(value.kindDescription)", at: expr.extent)
            }
            return result
        case .exception(let pattern, _):
            return error?.matches(pattern) ?? false
        }
    }

    /// The value of an `Input` leaf or `Output` value: a literal is its string, a path is
    /// evaluated against `root`, a sequence is a fresh `makeSequence()`, and an exception leaf is
    /// a boolean: whether `error` matches its pattern.
    public static func evaluate(
        _ leaf: LeafExpression, root: JSONValue, error: ErrorName?, makeSequence: () -> String
    ) throws(EvaluationError) -> JSONValue {
        switch leaf {
        case .literal(let text):
            return .string(text)
        case .path(let expr, _):
            return try evaluate(expr, root: root)
        case .sequence:
            return .string(makeSequence())
        case .exception(let pattern, _):
            return .bool(error?.matches(pattern) ?? false)
        }
    }
}

/// An expression that cannot be used: it does not parse (`.expressionSyntax`), uses a part of
/// SpEL that sagactl does not implement (`.unsupportedExpression`), or has a `$Type` prefix that
/// is not one of `$.`, `$Sequence.` and `$Exception{` (`.unknownExpressionType`).
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `.expressionSyntax`, `.unsupportedExpression` or `.unknownExpressionType`.
    public var code: DiagnosticCode
    /// One sentence naming the problem, for example "method call 'toUpperCase' is not supported".
    public var message: String
    /// Where the problem starts: 0-based, in Unicode scalars, into the text given to `parse`.
    /// At the end of the text when something is missing there.
    public var offset: Int
    /// How many scalars the problem covers; at least 1.
    public var length: Int

    public init(_ code: DiagnosticCode, _ message: String, offset: Int, length: Int = 1) {
        self.code = code
        self.message = message
        self.offset = offset
        self.length = max(length, 1)
    }

    static func syntax(_ message: String, at span: Expr.Span) -> ExpressionError {
        ExpressionError(.expressionSyntax, message, offset: span.offset, length: span.length)
    }

    static func unsupported(_ message: String, at span: Expr.Span) -> ExpressionError {
        ExpressionError(.unsupportedExpression, message, offset: span.offset, length: span.length)
    }

    public var description: String { "\(code) at \(offset): \(message)" }
}

/// An expression that parsed but failed at run time: a missing key compared with a number,
/// a property read on null, division by zero, a condition that is not a boolean.
///
/// The position is the one recorded in the expression tree, so it is an offset into the text
/// that was parsed (for a leaf, the whole leaf string, `$.` included).
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, naming the kinds of values involved but never the values themselves
    /// (they may hold payload data).
    public var message: String
    /// 0-based, in Unicode scalars.
    public var offset: Int
    /// At least 1.
    public var length: Int

    public init(_ message: String, offset: Int, length: Int) {
        self.message = message
        self.offset = offset
        self.length = max(length, 1)
    }

    init(_ message: String, at span: Expr.Span) {
        self.init(message, offset: span.offset, length: span.length)
    }

    public var description: String { "at \(offset): \(message)" }
}

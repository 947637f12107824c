/// A parsed expression in sagactl's subset of Spring's expression language (DESIGN §3.3).
///
/// Every node carries the `Span` of the text it introduces: a literal or name its token, an
/// accessor (`.name`, `[i]`, `.size()`, `.?[…]`) just that step, an operator its symbol. Runtime
/// errors point at the step that failed rather than the whole chain; `extent` gives the whole
/// sub-expression. Offsets are always into the text handed to the public `parse` function that
/// produced the tree (for `LeafExpression.parse` that is the whole leaf, `$.` included).
///
/// Trees are at most `ExpressionParser.maxDepth` levels deep, so the recursive walks over them
/// (evaluation, hashing, `extent`) cannot exhaust the stack.
public indirect enum Expr: Sendable, Hashable {
    /// A number, string, `true`, `false` or `null`.
    case literal(JSONValue, Span)
    /// `#root`: the value the expression is evaluated against.
    case root(Span)
    /// `#this`: the element under test inside a selection; the root elsewhere.
    case this(Span)
    /// `name` (target `nil`: a property of the current object) or `target.name` / `target?.name`.
    case property(Expr?, name: String, nullSafe: Bool, Span)
    /// `[index]` (target `nil`: an index into the current object), `target[index]`, or
    /// `target?.[index]` (null-safe).
    case index(Expr?, Expr, nullSafe: Bool, Span)
    /// `size()` or `target.size()` / `target?.size()`: elements of a list or map, or characters.
    case size(Expr?, nullSafe: Bool, Span)
    /// `target.?[condition]` (all matches), `.^[…]` (first) or `.$[…]` (last).
    case selection(Expr, SelectionKind, Expr, nullSafe: Bool, Span)
    /// `-x`, `+x`, `!x` / `not x`.
    case unary(UnaryOperator, Expr, Span)
    /// `lhs op rhs`.
    case binary(BinaryOperator, Expr, Expr, Span)
    /// `condition ? ifTrue : ifFalse`; the span is the `?`.
    case ternary(Expr, Expr, Expr, Span)
    /// `value ?: fallback`; the span is the `?:`.
    case elvis(Expr, Expr, Span)

    /// A range of text: `offset` and `length` count Unicode scalars.
    public struct Span: Sendable, Hashable, CustomStringConvertible {
        public var offset: Int
        public var length: Int

        public init(offset: Int, length: Int) {
            self.offset = offset
            self.length = length
        }

        /// One past the last scalar.
        public var end: Int { offset + length }

        /// The smallest span covering both.
        public func union(_ other: Span) -> Span {
            let start = min(offset, other.offset)
            return Span(offset: start, length: max(end, other.end) - start)
        }

        public var description: String { "\(offset)+\(length)" }
    }

    /// The node's own text (see the type's documentation).
    public var span: Span {
        switch self {
        case .literal(_, let s), .root(let s), .this(let s), .property(_, _, _, let s),
            .index(_, _, _, let s), .size(_, _, let s), .selection(_, _, _, _, let s),
            .unary(_, _, let s), .binary(_, _, _, let s), .ternary(_, _, _, let s),
            .elvis(_, _, let s):
            s
        }
    }

    /// The whole sub-expression, from its first token to its last (enclosing parentheses are
    /// not part of the tree, so they are not included).
    public var extent: Span {
        let start = leftmost.span.offset
        return Span(offset: start, length: rightmost.span.end - start)
    }

    /// The node holding the first token: down the left edge of the tree, without recursion.
    private var leftmost: Expr {
        var node = self
        while true {
            switch node {
            case .property(let target?, _, _, _), .index(let target?, _, _, _), .size(let target?, _, _),
                .selection(let target, _, _, _, _), .binary(_, let target, _, _),
                .ternary(let target, _, _, _), .elvis(let target, _, _):
                node = target
            default:
                return node
            }
        }
    }

    /// The node holding the last token (accessors end with their own text).
    private var rightmost: Expr {
        var node = self
        while true {
            switch node {
            case .unary(_, let next, _), .binary(_, _, let next, _), .ternary(_, _, let next, _),
                .elvis(_, let next, _):
                node = next
            default:
                return node
            }
        }
    }
}

/// Which elements a selection keeps.
public enum SelectionKind: String, Sendable, Hashable {
    /// `.?[…]`: every match, as a list.
    case all = "?["
    /// `.^[…]`: the first match, or null.
    case first = "^["
    /// `.$[…]`: the last match, or null.
    case last = "$["
}

/// A prefix operator.
public enum UnaryOperator: String, Sendable, Hashable {
    case negate = "-"
    case plus = "+"
    case not = "!"
}

/// An infix operator, in SpEL's precedence groups (loosest first): `||`; `&&`; comparisons
/// (not chainable); `+ -`; `* / %`.
public enum BinaryOperator: String, Sendable, Hashable {
    case or = "||"
    case and = "&&"
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case remainder = "%"

    /// Whether the operator compares its operands (and so yields a boolean).
    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }
}

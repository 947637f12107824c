/// A position in a source file: 1-based line, 1-based column counted in Unicode scalars
/// (the unit libyaml reports).
public struct SourcePosition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A half-open range `[start, end)` in one source file.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
    public var start: SourcePosition
    public var end: SourcePosition

    public init(start: SourcePosition, end: SourcePosition) {
        self.start = start
        self.end = max(start, end)
    }

    public init(at position: SourcePosition, length: Int = 1) {
        self.start = position
        self.end = SourcePosition(line: position.line, column: position.column + max(length, 0))
    }

    /// The range of `length` scalars starting `offset` scalars after this range's start, when
    /// this range is on one line; otherwise the start of this range.
    public func subrange(offset: Int, length: Int) -> SourceRange {
        SourceRange(
            at: SourcePosition(line: start.line, column: start.column + offset),
            length: length)
    }

    public var description: String { "\(start)-\(end)" }
}

/// A value together with the place in the file it came from.
public struct Located<Value> {
    public var value: Value
    public var range: SourceRange

    public init(_ value: Value, _ range: SourceRange) {
        self.value = value
        self.range = range
    }
}

extension Located: Sendable where Value: Sendable {}
extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}

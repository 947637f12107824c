/// A fault spec that does not parse: what is wrong and where (a character offset into the
/// spec, and the length of the offending text).
public struct FaultSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var spec: String
    /// 0-based character offset of the offending text in `spec`.
    public var offset: Int
    /// Characters of offending text (at least 1 for the caret).
    public var length: Int

    public init(message: String, spec: String, offset: Int, length: Int) {
        self.message = message
        self.spec = spec
        self.offset = offset
        self.length = max(length, 1)
    }

    /// One line: `invalid fault spec at column 9: unknown service 'payment' …`.
    public var description: String { "invalid fault spec at column \(offset + 1): \(message)" }

    /// The message, the spec and a caret line under the offending text.
    public var rendered: String {
        let underline = String(repeating: " ", count: offset) + "^" + String(repeating: "~", count: length - 1)
        return "\(description)\n  \(spec)\n  \(underline)"
    }
}

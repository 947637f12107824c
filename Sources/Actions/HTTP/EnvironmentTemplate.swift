/// A string with environment references, as written in a service binding's `URL` and `Headers`:
/// `${NAME}` (the variable must be set), `${NAME:-default}` (the default when the variable is
/// unset or empty; the default may itself contain references) and `$$` (a literal `$`). A `$`
/// followed by anything else is literal. Names are `[A-Za-z_][A-Za-z0-9_]*`.
///
/// Parsing and expanding are separate so that a binding is checked once and expanded at call
/// time, when the environment is read. Expanding reports which parts came from the environment:
/// header values built from them are secrets (`Authorization: "Bearer ${TOKEN}"`).
public struct EnvironmentTemplate: Sendable, Hashable {
    indirect enum Part: Sendable, Hashable {
        case literal(String)
        /// `column` is where the `$` of `${` is, 1-based, in characters.
        case variable(name: String, fallback: [Part]?, column: Int)
    }

    let parts: [Part]
    /// The text as written.
    public let text: String

    public init(parsing text: String) throws(EnvironmentTemplateError) {
        var parser = Parser(characters: Array(text))
        self.parts = try parser.parseParts(insideDefault: false)
        self.text = text
    }

    /// Whether the text has any `${...}` reference.
    public var hasReferences: Bool {
        parts.contains { if case .variable = $0 { true } else { false } }
    }

    /// The expanded text, and the substrings that came from environment variables.
    public struct Expansion: Sendable, Hashable {
        public var value: String
        /// The value of every variable that was substituted, in order (defaults written in the
        /// file are not included).
        public var environmentValues: [String]
    }

    /// Expands every reference with `lookup` (a variable's value, nil when unset).
    public func expand(_ lookup: (String) -> String?) throws(EnvironmentTemplateError) -> Expansion {
        var expansion = Expansion(value: "", environmentValues: [])
        try Self.expand(parts, lookup, into: &expansion)
        return expansion
    }

    private static func expand(_ parts: [Part], _ lookup: (String) -> String?,
                               into expansion: inout Expansion) throws(EnvironmentTemplateError) {
        for part in parts {
            switch part {
            case .literal(let text):
                expansion.value += text
            case .variable(let name, let fallback, let column):
                if let value = lookup(name), !(fallback != nil && value.isEmpty) {
                    expansion.value += value
                    expansion.environmentValues.append(value)
                } else if let fallback {
                    try expand(fallback, lookup, into: &expansion)
                } else {
                    throw EnvironmentTemplateError(.unsetVariable(name), column: column)
                }
            }
        }
    }

    struct Parser {
        let characters: [Character]
        var index = 0

        init(characters: [Character]) { self.characters = characters }

        /// Parses up to the end of the text, or up to the `}` that closes a default.
        mutating func parseParts(insideDefault: Bool) throws(EnvironmentTemplateError) -> [Part] {
            var parts: [Part] = []
            var literal = ""
            func flush() {
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
            }
            while index < characters.count {
                let c = characters[index]
                if insideDefault && c == "}" { break }
                guard c == "$", index + 1 < characters.count else {
                    literal.append(c)
                    index += 1
                    continue
                }
                switch characters[index + 1] {
                case "$":
                    literal.append("$")
                    index += 2
                case "{":
                    flush()
                    parts.append(try parseReference())
                default:
                    literal.append(c)
                    index += 1
                }
            }
            flush()
            return parts
        }

        /// At `${`: reads the name, an optional `:-default`, and the closing `}`.
        mutating func parseReference() throws(EnvironmentTemplateError) -> Part {
            let start = index
            let column = start + 1
            index += 2
            var name = ""
            while index < characters.count, Self.isNameCharacter(characters[index]) {
                name.append(characters[index])
                index += 1
            }
            guard index < characters.count else { throw EnvironmentTemplateError(.unterminated, column: column) }
            if name.isEmpty {
                if characters[index] == "}" { throw EnvironmentTemplateError(.emptyName, column: column) }
                throw EnvironmentTemplateError(.invalidName(String(characters[index])), column: index + 1)
            }
            if let first = name.first, first.isNumber {
                throw EnvironmentTemplateError(.invalidName(name), column: start + 3)
            }
            switch characters[index] {
            case "}":
                index += 1
                return .variable(name: name, fallback: nil, column: column)
            case ":" where index + 1 < characters.count && characters[index + 1] == "-":
                index += 2
                let fallback = try parseParts(insideDefault: true)
                guard index < characters.count else { throw EnvironmentTemplateError(.unterminated, column: column) }
                index += 1  // the closing `}`
                return .variable(name: name, fallback: fallback, column: column)
            default:
                throw EnvironmentTemplateError(.unexpectedCharacter(characters[index], after: name), column: index + 1)
            }
        }

        static func isNameCharacter(_ c: Character) -> Bool {
            c == "_" || (c.isASCII && (c.isLetter || c.isNumber))
        }
    }
}

/// A reference that cannot be parsed or expanded. The message names variables, never values.
public struct EnvironmentTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// `${` without its closing `}`.
        case unterminated
        /// `${}`.
        case emptyName
        /// A name that starts with a digit, or a character that cannot start a name.
        case invalidName(String)
        /// `${NAME` followed by something other than `}` or `:-`.
        case unexpectedCharacter(Character, after: String)
        /// `${NAME}` with NAME not set (a default would have been used).
        case unsetVariable(String)
    }

    public var kind: Kind
    /// Where the problem is in the text, 1-based, in characters.
    public var column: Int

    public init(_ kind: Kind, column: Int) {
        self.kind = kind
        self.column = column
    }

    public var description: String {
        switch kind {
        case .unterminated:
            "'${' at column \(column) is not closed; add '}' after the variable name"
        case .emptyName:
            "'${}' at column \(column) names no variable"
        case .invalidName(let name):
            "'\(name)' at column \(column) is not a variable name; use letters, digits and '_', not starting with a digit"
        case .unexpectedCharacter(let character, let name):
            "'\(character)' at column \(column) after '${\(name)': expected '}' or ':-default}'"
        case .unsetVariable(let name):
            "environment variable \(name) (column \(column)) is not set; set it, or write ${\(name):-default}"
        }
    }
}

/// Splits expression text into tokens, following SpEL's tokenizer where it matters (textual
/// operators are case-insensitive, `''` doubles a quote, identifiers may hold `_` and `$`).
///
/// Offsets count Unicode scalars from the start of `scalars`, so a caller that lexes part of a
/// longer string (the text after `$.`) passes the whole string and a start index.
struct ExpressionLexer {
    private let scalars: [Unicode.Scalar]
    private var position: Int
    private var tokens: [ExpressionToken] = []

    init(scalars: [Unicode.Scalar], start: Int = 0) {
        self.scalars = scalars
        self.position = start
    }

    /// All tokens, ending with `.end` (positioned just past the text).
    static func tokenize(_ scalars: [Unicode.Scalar], start: Int = 0) throws(ExpressionError) -> [ExpressionToken] {
        var lexer = ExpressionLexer(scalars: scalars, start: start)
        while try lexer.next() {}
        lexer.push(.end, from: scalars.count, length: 1, text: "")
        return lexer.tokens
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        let i = position + ahead
        return i < scalars.count ? scalars[i] : nil
    }

    private mutating func push(_ kind: ExpressionToken.Kind, from start: Int, length: Int, text: String) {
        tokens.append(ExpressionToken(kind: kind, offset: start, length: length, text: text))
    }

    private mutating func symbol(_ kind: ExpressionToken.Kind, _ length: Int) {
        let text = scalars.string(position..<position + length)
        push(kind, from: position, length: length, text: text)
        position += length
    }

    /// Lexes one token; false at the end of the text.
    private mutating func next() throws(ExpressionError) -> Bool {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
        guard let c = peek() else { return false }
        let following = peek(1)
        // Selection and projection brackets only count right after a dot, so that a ternary
        // such as `x ?[a] : [b]` still reads as `?` followed by an indexer.
        let afterDot = tokens.last.map { $0.kind == .dot || $0.kind == .safeNavigation } ?? false
        switch c {
        case "(": symbol(.leftParen, 1)
        case ")": symbol(.rightParen, 1)
        case "[": symbol(.leftBracket, 1)
        case "]": symbol(.rightBracket, 1)
        case "{": symbol(.leftBrace, 1)
        case "}": symbol(.rightBrace, 1)
        case ",": symbol(.comma, 1)
        case ":": symbol(.colon, 1)
        case "*": symbol(.star, 1)
        case "/": symbol(.slash, 1)
        case "%": symbol(.percent, 1)
        case "@": symbol(.at, 1)
        case ".": symbol(.dot, 1)
        case "+": following == "+" ? symbol(.increment, 2) : symbol(.plus, 1)
        case "-": following == "-" ? symbol(.decrement, 2) : symbol(.minus, 1)
        case "<": following == "=" ? symbol(.lessOrEqual, 2) : symbol(.less, 1)
        case ">": following == "=" ? symbol(.greaterOrEqual, 2) : symbol(.greater, 1)
        case "=": following == "=" ? symbol(.equal, 2) : symbol(.assign, 1)
        case "&": following == "&" ? symbol(.and, 2) : symbol(.ampersand, 1)
        case "|":
            guard following == "|" else {
                throw .syntax("'|' must be doubled: '||' is the or operator", at: .init(offset: position, length: 1))
            }
            symbol(.or, 2)
        case "!":
            if following == "=" { symbol(.notEqual, 2) }
            else if following == "[" && afterDot { symbol(.project, 2) }
            else { symbol(.not, 1) }
        case "?":
            if following == "." { symbol(.safeNavigation, 2) }
            else if following == ":" { symbol(.elvis, 2) }
            else if following == "[" && afterDot { symbol(.select(.all), 2) }
            else { symbol(.question, 1) }
        case "^":
            following == "[" && afterDot ? symbol(.select(.first), 2) : symbol(.caret, 1)
        case "$" where following == "[" && afterDot:
            symbol(.select(.last), 2)
        case "'", "\"":
            try string(quote: c)
        case "#":
            try variable()
        case _ where Self.isDigit(c):
            try number()
        case _ where Self.isIdentifierStart(c):
            identifier()
        default:
            throw .syntax("unexpected character '\(c)'", at: .init(offset: position, length: 1))
        }
        return true
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        // ASCII first: the Unicode property lookup is costly, and nearly every name is ASCII.
        if c.isASCII { return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c == "$" }
        return c.properties.isAlphabetic
    }

    static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || isDigit(c)
    }

    private mutating func readName() -> String {
        let start = position
        while let c = peek(), Self.isIdentifierPart(c) { position += 1 }
        return scalars.string(start..<position)
    }

    private mutating func identifier() {
        let start = position
        let name = readName()
        // A name longer than every operator word is an identifier, without lowercasing it.
        let kind = name.utf8.count <= ExpressionToken.longestOperatorWord
            ? ExpressionToken.operatorWords[name.lowercased()] ?? .identifier(name) : .identifier(name)
        push(kind, from: start, length: position - start, text: name)
    }

    private mutating func variable() throws(ExpressionError) {
        let start = position
        position += 1
        guard let c = peek(), Self.isIdentifierStart(c) else {
            throw .syntax("expected a variable name after '#'", at: .init(offset: start, length: 1))
        }
        let name = readName()
        push(.variable(name), from: start, length: position - start, text: "#" + name)
    }

    /// `'…'` or `"…"`; the quote character doubled inside stands for itself (SpEL has no
    /// backslash escapes).
    private mutating func string(quote: Unicode.Scalar) throws(ExpressionError) {
        let start = position
        position += 1
        var value = String.UnicodeScalarView()
        while true {
            guard let c = peek() else {
                throw .syntax("unterminated string: this \(quote) is never closed",
                    at: .init(offset: start, length: 1))
            }
            position += 1
            if c == quote {
                if peek() == quote {
                    value.append(c)
                    position += 1
                } else {
                    break
                }
            } else {
                value.append(c)
            }
        }
        let text = scalars.string(start..<position)
        push(.string(String(value)), from: start, length: position - start, text: text)
    }

    /// Digits, an optional fraction (only when a digit follows the dot, so `1.size()` still
    /// works) and exponent, and Java's suffixes `L` (long) or `d`/`f` (floating point).
    private mutating func number() throws(ExpressionError) {
        let start = position
        var isDecimal = false
        func digits() { while let c = peek(), Self.isDigit(c) { position += 1 } }
        digits()
        if peek() == ".", let d = peek(1), Self.isDigit(d) {
            isDecimal = true
            position += 1
            digits()
        }
        if let e = peek(), e == "e" || e == "E" {
            let sign = peek(1) == "+" || peek(1) == "-" ? 1 : 0
            if let d = peek(1 + sign), Self.isDigit(d) {
                isDecimal = true
                position += 1 + sign
                digits()
            }
        }
        let body = scalars.string(start..<position)
        if let s = peek(), "dDfF".unicodeScalars.contains(s) {
            isDecimal = true
            position += 1
        } else if let s = peek(), !isDecimal, s == "L" || s == "l" {
            position += 1
        }
        if let c = peek(), Self.isIdentifierPart(c) {
            throw .syntax("unexpected '\(c)' in a number", at: .init(offset: position, length: 1))
        }
        let text = scalars.string(start..<position)
        let span = Expr.Span(offset: start, length: position - start)
        if isDecimal {
            guard let value = Double(body), value.isFinite else {
                throw .syntax("number '\(text)' is out of range", at: span)
            }
            push(.decimal(value), from: start, length: span.length, text: text)
        } else {
            guard let value = Int(body) else { throw .syntax("number '\(text)' is too large", at: span) }
            push(.integer(value), from: start, length: span.length, text: text)
        }
    }
}

import Testing
@testable import StateLang

/// Every SpEL construct outside the subset is reported by name, at its exact position.
@Suite("Expression: unsupported SpEL")
struct ExpressionUnsupportedTests {
    /// (text, offset, length, words the message must contain)
    static let cases: [(String, Int, Int, String)] = [
        ("[a].toUpperCase()", 4, 11, "method call 'toUpperCase' is not supported"),
        ("[a] == 1 && [b].isEmpty()", 16, 7, "method call 'isEmpty' is not supported"),
        ("foo()", 0, 3, "method call 'foo' is not supported"),
        ("a?.trim()", 3, 4, "method call 'trim' is not supported"),
        ("new java.util.Date()", 0, 8, "constructor call 'new' is not supported"),
        ("T(java.lang.Math).random()", 0, 1, "type reference 'T(…)' is not supported"),
        ("@orderService.find([id])", 0, 13, "bean reference '@…' is not supported"),
        ("&factory", 0, 8, "factory bean reference '&…' is not supported"),
        ("[a] = 1", 4, 1, "assignment '=' is not supported"),
        ("[list].![name]", 7, 2, "projection '.![…]' is not supported"),
        ("[a] matches '[0-9]+'", 4, 7, "operator 'matches' is not supported"),
        ("[a] between {1, 2}", 4, 7, "operator 'between' is not supported"),
        ("[a] instanceof T(Integer)", 4, 10, "operator 'instanceof' is not supported"),
        ("2 ^ 3", 2, 1, "power operator '^' is not supported"),
        ("[a]++", 3, 2, "increment and decrement operators ('++') are not supported"),
        ("--[a]", 0, 2, "increment and decrement operators ('--') are not supported"),
        ("{1, 2}.size()", 0, 1, "inline list or map '{…}' is not supported"),
        ("#foo == 1", 0, 4, "variable '#foo' is not supported"),
        ("#max(1, 2)", 0, 4, "function call '#max(…)' is not supported"),
        ("[a].#x", 4, 2, "a variable or function after '.'"),
    ]

    @Test(arguments: cases)
    func reportsTheConstruct(_ text: String, _ offset: Int, _ length: Int, _ message: String) throws {
        let error = try #require(ExpressionTestSupport.parseError(text))
        #expect(error.code == .unsupportedExpression)
        #expect(error.offset == offset, "\(error)")
        #expect(error.length == length, "\(error)")
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func offsetsInALeafCountTheDollarPrefix() throws {
        let error = try #require(ExpressionTestSupport.leafError("$.[name].trim()"))
        #expect(error.code == .unsupportedExpression)
        #expect(error.offset == 9 && error.length == 4)
        let condition = try #require(ExpressionTestSupport.conditionError("$.[a] = 2"))
        #expect(condition.offset == 6 && condition.code == .unsupportedExpression)
    }
}

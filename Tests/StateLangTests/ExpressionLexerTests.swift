import Testing
@testable import StateLang

@Suite("Expression lexer")
struct ExpressionLexerTests {
    func kinds(_ text: String) throws -> [ExpressionToken.Kind] {
        try ExpressionLexer.tokenize(Array(text.unicodeScalars)).map(\.kind)
    }

    @Test func punctuationAndOperators() throws {
        #expect(try kinds("[a] == 1 && b.c != 'x'") == [
            .leftBracket, .identifier("a"), .rightBracket, .equal, .integer(1), .and,
            .identifier("b"), .dot, .identifier("c"), .notEqual, .string("x"), .end,
        ])
        #expect(try kinds("<= >= < > ! || ?: ?. ? : + - * / %") == [
            .lessOrEqual, .greaterOrEqual, .less, .greater, .not, .or, .elvis, .safeNavigation,
            .question, .colon, .plus, .minus, .star, .slash, .percent, .end,
        ])
    }

    @Test func textualOperatorsAreCaseInsensitive() throws {
        #expect(try kinds("and OR Not eq NE lt Le GT ge div MOD") == [
            .and, .or, .not, .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual,
            .slash, .percent, .end,
        ])
    }

    @Test func selectionBracketsOnlyAfterADot() throws {
        #expect(try kinds("[l].?[x]")[4] == .select(.all))
        #expect(try kinds("[l].^[x]")[4] == .select(.first))
        #expect(try kinds("[l].$[x]")[4] == .select(.last))
        #expect(try kinds("[l].![x]")[4] == .project)
        #expect(try kinds("[l]?.?[x]")[4] == .select(.all))
        // Not after a dot: a ternary whose branch is an indexer.
        #expect(try kinds("c ?[a] : [b]")[1] == .question)
    }

    @Test func strings() throws {
        #expect(try kinds("'it''s'") == [.string("it's"), .end])
        #expect(try kinds(#""say ""hi""""#) == [.string(#"say "hi""#), .end])
        #expect(try kinds(#"'a"b'"#) == [.string(#"a"b"#), .end])
        #expect(try kinds("''") == [.string(""), .end])
        let error = try #require(ExpressionTestSupport.parseError("[a] == 'abc"))
        #expect(error.code == .expressionSyntax)
        #expect(error.offset == 7)
        #expect(error.message.contains("unterminated string"))
    }

    @Test func numbers() throws {
        #expect(try kinds("0 42 1.5 0.4 1e3 2.5E-2 7L 3d") == [
            .integer(0), .integer(42), .decimal(1.5), .decimal(0.4), .decimal(1000), .decimal(0.025),
            .integer(7), .decimal(3), .end,
        ])
        // A dot not followed by a digit ends the number: `1.size()` is a call on 1.
        #expect(try kinds("1.size()") == [.integer(1), .dot, .identifier("size"), .leftParen, .rightParen, .end])
        let tooLarge = try #require(ExpressionTestSupport.parseError("1 + 99999999999999999999"))
        #expect(tooLarge.offset == 4 && tooLarge.length == 20)
        let glued = try #require(ExpressionTestSupport.parseError("12abc"))
        #expect(glued.offset == 2)
    }

    @Test func variablesAndIdentifiers() throws {
        #expect(try kinds("#root #this _x $y a1") == [
            .variable("root"), .variable("this"), .identifier("_x"), .identifier("$y"), .identifier("a1"), .end,
        ])
        let bare = try #require(ExpressionTestSupport.parseError("# root"))
        #expect(bare.offset == 0 && bare.code == .expressionSyntax)
    }

    @Test func offsetsCountUnicodeScalars() throws {
        // 'é' is one scalar, the emoji one scalar (two UTF-16 units), e + U+0301 two scalars.
        let tokens = try ExpressionLexer.tokenize(Array("'\u{E9}😀e\u{301}' == x".unicodeScalars))
        #expect(tokens.map(\.offset) == [0, 7, 10, 11])
        #expect(tokens[0].length == 6)
        let error = try #require(ExpressionTestSupport.parseError("'\u{E9}😀' == x y"))
        #expect(error.offset == 10)
    }

    @Test func strayCharacters() throws {
        for (text, offset) in [("[a] ; 1", 4), ("a | b", 2), ("`x`", 0), ("a \\ b", 2)] {
            let error = try #require(ExpressionTestSupport.parseError(text), "\(text)")
            #expect(error.code == .expressionSyntax, "\(text)")
            #expect(error.offset == offset, "\(text)")
            #expect(error.length == 1, "\(text)")
        }
    }

    @Test func tokenTextsAreTheSourceTextASCIIOrNot() throws {
        let text = "pr\u{E9}cis.Montant >= 1.5e3 && 'caf\u{E9}' != #na\u{EF}ve AND [x] ?: verylongidentifiername"
        #expect(text.scalarArray == Array(text.unicodeScalars))
        #expect("[plain] == 'ascii'".scalarArray == Array("[plain] == 'ascii'".unicodeScalars))
        let tokens = try ExpressionLexer.tokenize(text.scalarArray)
        #expect(tokens.map(\.text) == [
            "pr\u{E9}cis", ".", "Montant", ">=", "1.5e3", "&&", "'caf\u{E9}'", "!=", "#na\u{EF}ve", "AND", "[", "x", "]",
            "?:", "verylongidentifiername", "",
        ])
        #expect(tokens[0].kind == .identifier("pr\u{E9}cis"))
        #expect(tokens[8].kind == .variable("na\u{EF}ve"))
        #expect(tokens[9].kind == .and)
        #expect(tokens[14].kind == .identifier("verylongidentifiername"))
    }
}

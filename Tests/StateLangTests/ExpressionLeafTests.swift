import Testing
@testable import StateLang

@Suite("Expression leaves and conditions")
struct ExpressionLeafTests {
    @Test func literalsAreNotParsed() throws {
        #expect(try LeafExpression.parse("lilei") == .literal("lilei"))
        // Looks like SpEL but has no `$`: a constant, as in Seata.
        #expect(try LeafExpression.parse("[fooResult][a].list[0]") == .literal("[fooResult][a].list[0]"))
        #expect(try LeafExpression.parse("") == .literal(""))
        #expect(try LeafExpression.parse("a$b") == .literal("a$b"))
    }

    @Test func paths() throws {
        guard case .path(let expr, let contentOffset) = try LeafExpression.parse("$.[a].b") else {
            Issue.record("not a path")
            return
        }
        #expect(contentOffset == 2)
        #expect(ExpressionTestSupport.sexpr(expr) == "(. [a] b)")
        #expect(expr.span == .init(offset: 5, length: 2))
        #expect(expr.extent == .init(offset: 2, length: 5))
        guard case .path(let root, _) = try LeafExpression.parse("$.#root") else { Issue.record("not a path"); return }
        #expect(root == .root(.init(offset: 2, length: 5)))
        guard case .path(let one, _) = try LeafExpression.parse("$.1") else { Issue.record("not a path"); return }
        #expect(one == .literal(.int(1), .init(offset: 2, length: 1)))
    }

    @Test func sequenceAndException() throws {
        #expect(try LeafExpression.parse("$Sequence.BUSINESS_KEY|SIMPLE") == .sequence("BUSINESS_KEY|SIMPLE"))
        #expect(try LeafExpression.parse("$Sequence{STATE_INST}") == .sequence("STATE_INST"))
        #expect(try LeafExpression.parse("$Exception{java.lang.Throwable}")
            == .exception(pattern: "java.lang.Throwable", lowercase: false))
        #expect(try LeafExpression.parse("$exception{Timeout}") == .exception(pattern: "Timeout", lowercase: true))
        #expect(try Condition.parse("$Exception{io.x.DemoException}")
            == .exception(pattern: "io.x.DemoException", lowercase: false))
        #expect(try Condition.parse("$exception{java.lang.Throwable}")
            == .exception(pattern: "java.lang.Throwable", lowercase: true))
    }

    @Test func prefixErrors() throws {
        let cases: [(String, DiagnosticCode, Int, Int, String)] = [
            ("$CEL.elContext['context']['x']", .unknownExpressionType, 0, 5, "unknown expression type '$CEL.'"),
            ("$Foo{x}", .unknownExpressionType, 0, 5, "'$.<expression>', '$Sequence.<name>' and '$Exception{<error name>}'"),
            ("${x}", .unknownExpressionType, 0, 2, "unknown expression type '${'"),
            ("$SEQUENCE.x", .unknownExpressionType, 0, 10, "'$SEQUENCE.'"),
            ("$abc", .expressionSyntax, 0, 4, "needs '.' or '{'"),
            ("$", .expressionSyntax, 0, 1, "needs '.' or '{'"),
            ("$.", .expressionSyntax, 2, 1, "expected an expression"),
            ("$.[a", .expressionSyntax, 4, 1, "expected ']' to close '['"),
            ("$Exception{x", .expressionSyntax, 12, 1, "expected '}' to close '$Exception{'"),
            ("$Exception{}", .expressionSyntax, 11, 1, "expected an error name"),
            ("$Exception{x}y", .expressionSyntax, 13, 1, "unexpected text after the closing '}'"),
        ]
        for (text, code, offset, length, message) in cases {
            let error = try #require(ExpressionTestSupport.leafError(text), "\(text)")
            #expect(error.code == code, "\(text): \(error)")
            #expect(error.offset == offset, "\(text): \(error)")
            #expect(error.length == length, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
    }

    @Test func conditions() throws {
        guard case .spel(let expr) = try Condition.parse("[a] == 1") else { Issue.record("not SpEL"); return }
        #expect(ExpressionTestSupport.sexpr(expr) == "(== [a] 1)")
        // Seata also resolves a `$.` condition as SpEL; offsets stay in the condition text.
        guard case .spel(let prefixed) = try Condition.parse("$.[a] == 1") else { Issue.record("not SpEL"); return }
        #expect(prefixed.extent == .init(offset: 2, length: 8))
        let sequence = try #require(ExpressionTestSupport.conditionError("$Sequence.x"))
        #expect(sequence.code == .unsupportedExpression && sequence.offset == 0 && sequence.length == 10)
        let cel = try #require(ExpressionTestSupport.conditionError("$CEL.x == 1"))
        #expect(cel.code == .unknownExpressionType)
        let empty = try #require(ExpressionTestSupport.conditionError(""))
        #expect(empty.code == .expressionSyntax && empty.offset == 0 && empty.length == 1)
    }

    @Test func testingConditions() throws {
        let root: JSONValue = ["a": 1]
        #expect(try Evaluator.test(Condition.parse("[a] == 1"), root: root, error: nil))
        #expect(try !Evaluator.test(Condition.parse("[a] == 2"), root: root, error: nil))
        let notBool = try #require(throws: EvaluationError.self) {
            try Evaluator.test(Condition.parse("[a] + 1"), root: root, error: nil)
        }
        #expect(notBool.message == "a condition must be a boolean, but this one is a number")
        #expect(notBool.offset == 0 && notBool.length == 7)
        let missing = try #require(throws: EvaluationError.self) {
            try Evaluator.test(Condition.parse("[b]"), root: root, error: nil)
        }
        #expect(missing.message == "a condition must be a boolean, but this one is null")

        let timeout = try Condition.parse("$Exception{NetworkError}")
        #expect(try Evaluator.test(timeout, root: root, error: .timeout))
        #expect(try !Evaluator.test(timeout, root: root, error: .circuitOpen))
        #expect(try !Evaluator.test(timeout, root: root, error: nil))
        let any = try Condition.parse("$Exception{java.lang.Throwable}")
        #expect(try Evaluator.test(any, root: root, error: .action("OutOfStock")))
        let demo = try Condition.parse("$Exception{io.seata.saga.engine.mock.DemoException}")
        #expect(try Evaluator.test(demo, root: root, error: ErrorName("DemoException")))
        #expect(try !Evaluator.test(demo, root: root, error: .timeout))
    }

    @Test func evaluatingLeaves() throws {
        let root: JSONValue = ["a": ["b": 2]]
        var made = 0
        func leaf(_ text: String, error: ErrorName? = nil) throws -> JSONValue {
            try Evaluator.evaluate(LeafExpression.parse(text), root: root, error: error) {
                made += 1
                return "id-\(made)"
            }
        }
        #expect(try leaf("lilei") == "lilei")
        #expect(try leaf("$.[a].b") == 2)
        #expect(try leaf("$.#root") == root)
        #expect(try leaf("$Sequence.X") == "id-1")
        #expect(try leaf("$Sequence.X") == "id-2")
        #expect(try leaf("$Exception{Timeout}", error: .timeout) == true)
        #expect(try leaf("$Exception{Timeout}") == false)
        #expect(made == 2)
        // Runtime errors point into the whole leaf, `$.` included.
        let error = try #require(throws: EvaluationError.self) { try leaf("$.[x].y") }
        #expect(error.message == "cannot read 'y' of null")
        #expect(error.offset == 5 && error.length == 2)
    }
}

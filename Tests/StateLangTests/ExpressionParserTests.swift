import Foundation
import Testing
@testable import StateLang

@Suite("Expression parser")
struct ExpressionParserTests {
    let shape = ExpressionTestSupport.shape

    @Test func rootAccess() {
        #expect(shape("[orderId]") == "[orderId]")
        #expect(shape("['order id']") == "['order id']")
        #expect(shape(#"["k"]"#) == "['k']")
        #expect(shape("[0]") == "[0]")
        #expect(shape("data1") == "data1")
        #expect(shape("#root") == "#root")
        #expect(shape("#this") == "#this")
    }

    @Test func chains() {
        #expect(shape("a.b") == "(. a b)")
        #expect(shape("data2.a") == "(. data2 a)")
        #expect(shape("a[0]") == "(idx a 0)")
        #expect(shape("[people].name") == "(. [people] name)")
        #expect(shape("[a][b].c[0]") == "(idx (. (idx [a] b) c) 0)")
        #expect(shape("a?.b") == "(?. a b)")
        #expect(shape("a.[0]") == "(idx a 0)")
        #expect(shape("a?.[0]") == "(?idx a 0)")
        #expect(shape("return.code == 'F'") == "(== (. return code) 'F')")
        // Textual operators are names after a dot.
        #expect(shape("[m].and.OR") == "(. (. [m] and) OR)")
    }

    @Test func literals() {
        #expect(shape("1") == "1")
        #expect(shape("0.4") == "0.4")
        #expect(shape("'s'") == "'s'")
        #expect(shape("true") == "true")
        #expect(shape("FALSE") == "false")
        #expect(shape("Null") == "null")
    }

    @Test func precedence() {
        #expect(shape("1 + 2 * 3") == "(+ 1 (* 2 3))")
        #expect(shape("(1 + 2) * 3") == "(* (+ 1 2) 3)")
        #expect(shape("10 - 2 - 3") == "(- (- 10 2) 3)")
        #expect(shape("a == 1 || b == 2 && c == 3") == "(|| (== a 1) (&& (== b 2) (== c 3)))")
        #expect(shape("[a]-2") == "(- [a] 2)")
        #expect(shape("-[a] * 2") == "(* (- [a]) 2)")
        #expect(shape("!a && b") == "(&& (! a) b)")
        #expect(shape("not a or b") == "(|| (! a) b)")
        #expect(shape("1 lt 2 AND 3 ge 2") == "(&& (< 1 2) (>= 3 2))")
        #expect(shape("7 div 2 mod 3") == "(% (/ 7 2) 3)")
        #expect(shape("a + 1 > b - 1") == "(> (+ a 1) (- b 1))")
    }

    @Test func ternaryAndElvis() {
        #expect(shape("a ? 1 : 2") == "(? a 1 2)")
        #expect(shape("a ? 1 : b ? 2 : 3") == "(? a 1 (? b 2 3))")
        #expect(shape("a > 1 ? [x] : [y]") == "(? (> a 1) [x] [y])")
        #expect(shape("a ?: 'd'") == "(?: a 'd')")
        #expect(shape("a ?: b ?: c") == "(?: a (?: b c))")
    }

    @Test func collections() {
        #expect(shape("#root.size() > 0") == "(> (size #root) 0)")
        #expect(shape("size()") == "(size)")
        #expect(shape("a?.size()") == "(?size a)")
        #expect(shape("[l].?[#this > 1]") == "(?[ [l] (> #this 1))")
        #expect(shape("[l].^[x]") == "(^[ [l] x)")
        #expect(shape("[l].$[x]") == "($[ [l] x)")
        #expect(shape("[loopResult].?[#this[fooResult] == null].size() == 0 && [a] == 1")
            == "(&& (== (size (?[ [loopResult] (== (idx #this fooResult) null))) 0) (== [a] 1))")
        #expect(shape("[nrOfCompletedInstances] == ([collection].size()-4)")
            == "(== [nrOfCompletedInstances] (- (size [collection]) 4))")
    }

    @Test func spans() throws {
        let e = try ExpressionParser.parse("[a].b == 'x'")
        guard case .binary(.equal, let lhs, let rhs, let op) = e else { Issue.record("\(e)"); return }
        #expect(op == .init(offset: 6, length: 2))
        #expect(lhs.span == .init(offset: 3, length: 2))  // `.b`
        #expect(lhs.extent == .init(offset: 0, length: 5))
        #expect(rhs.span == .init(offset: 9, length: 3))
        #expect(e.extent == .init(offset: 0, length: 12))
        guard case .property(let target?, _, _, _) = lhs else { Issue.record("\(lhs)"); return }
        #expect(target.span == .init(offset: 0, length: 3))

        let call = try ExpressionParser.parse("#root.size() > 0")
        guard case .binary(_, let size, _, _) = call else { Issue.record("\(call)"); return }
        #expect(size.span == .init(offset: 5, length: 7))
        let selection = try ExpressionParser.parse("[l].?[#this]")
        #expect(selection.span == .init(offset: 3, length: 9))
        let textual = try ExpressionParser.parse("a and b")
        #expect(textual.span == .init(offset: 2, length: 3))
    }

    @Test func syntaxErrorsPointAtTheProblem() throws {
        let cases: [(String, Int, String)] = [
            ("", 0, "expected an expression"),
            ("[a", 2, "expected ']' to close '['"),
            ("[a] ==", 6, "expected an expression, found the end"),
            ("(1 + 2", 6, "expected ')' to close '('"),
            ("[a] == 1 == 2", 9, "comparisons cannot be chained"),
            ("a b", 2, "unexpected 'b'"),
            ("[]", 1, "expected a key or an index"),
            ("a.", 2, "expected a property name"),
            ("a.'x'", 2, "expected a property name"),
            ("1 ? 2", 5, "expected ':'"),
            ("a)", 1, "unmatched ')'"),
            (")", 0, "expected an expression, found ')'"),
            ("a : b", 2, "':' without a matching '?'"),
            ("[l].?[]", 6, "expected a condition"),
            ("()", 1, "expected an expression inside '()'"),
            ("size(1)", 5, "'size()' takes no arguments"),
        ]
        for (text, offset, message) in cases {
            let error = try #require(ExpressionTestSupport.parseError(text), "\(text)")
            #expect(error.code == .expressionSyntax, "\(text)")
            #expect(error.offset == offset, "\(text): \(error)")
            #expect(error.length >= 1)
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
    }

    @Test func nestingIsBounded() throws {
        let ok = String(repeating: "(", count: 150) + "1" + String(repeating: ")", count: 150)
        #expect(throws: Never.self) { try ExpressionParser.parse(ok) }
        let deepInputs = [
            String(repeating: "(", count: 250) + "1" + String(repeating: ")", count: 250),
            String(repeating: "(", count: 100_000),
            String(repeating: "- ", count: 300) + "1",  // "--" would lex as decrement
            String(repeating: "!", count: 100_000) + "true",
            Array(repeating: "1", count: 300).joined(separator: " + "),
            "[a]" + String(repeating: "[0]", count: 300),
            String(repeating: "a ? 1 : ", count: 300) + "2",
            String(repeating: "[", count: 300) + "a" + String(repeating: "]", count: 300),
        ]
        for text in deepInputs {
            let error = try #require(ExpressionTestSupport.parseError(text), "\(text.prefix(20))")
            #expect(error.code == .expressionSyntax)
            #expect(error.message.contains("nests more than \(ExpressionParser.maxDepth) levels"), "\(error)")
        }
        // A long but shallow chain of 150 terms parses and evaluates.
        let sum = Array(repeating: "1", count: 150).joined(separator: " + ")
        #expect(try Evaluator.evaluate(ExpressionParser.parse(sum), root: [:]) == 150)
    }

    /// Expressions at the depth limit parse and evaluate on a thread with a fixed 4 MB stack,
    /// along each recursive path of the parser and the evaluator.
    @Test func nestingAtTheLimitFitsInAFixedStack() async throws {
        let limit = ExpressionParser.maxDepth
        var nested: JSONValue = 1
        for _ in 0..<(limit - 2) { nested = [nested] }
        let cases: [(String, JSONValue)] = [
            (String(repeating: "(", count: limit - 1) + "1" + String(repeating: ")", count: limit - 1), [:]),
            (String(repeating: "- ", count: limit - 1) + "1", [:]),
            (String(repeating: "[", count: limit - 1) + "'a'" + String(repeating: "]", count: limit - 1), ["a": "a"]),
            ("[a]" + String(repeating: "[0]", count: limit - 2), ["a": nested]),
            (String(repeating: "(1 + ", count: limit / 2 - 1) + "1" + String(repeating: ")", count: limit / 2 - 1), [:]),
            (String(repeating: "[l].?[", count: limit / 2 - 1) + "true" + String(repeating: "]", count: limit / 2 - 1),
             ["l": [1]]),
            (String(repeating: "true ? ", count: limit - 1) + "1" + String(repeating: " : 0", count: limit - 1), [:]),
        ]
        for (text, root) in cases {
            let outcome = await onThread(stackSize: 4 << 20) { () -> String in
                let expr: Expr
                do throws(ExpressionError) {
                    expr = try ExpressionParser.parse(text)
                } catch {
                    return "parse error \(error.message)"
                }
                do throws(EvaluationError) {
                    let value = try Evaluator.evaluate(expr, root: root)
                    return "value \(value)"
                } catch {
                    return "evaluation error \(error.message)"
                }
            }
            #expect(!outcome.hasPrefix("parse error"), "\(text.prefix(16))…: \(outcome)")
        }
    }

    /// Runs `body` on a new thread with the given stack size.
    func onThread(stackSize: Int, _ body: @escaping @Sendable () -> String) async -> String {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = stackSize
            thread.start()
        }
    }
}

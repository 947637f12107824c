import Testing
@testable import StateLang

@Suite("Expression evaluator")
struct ExpressionEvaluatorTests {
    func eval(_ text: String, _ root: JSONValue = [:]) throws(EvaluationError) -> JSONValue {
        try ExpressionTestSupport.eval(text, root)
    }

    func evalError(_ text: String, _ root: JSONValue = [:]) -> EvaluationError? {
        ExpressionTestSupport.evalError(text, root)
    }

    static let context: JSONValue = [
        "a": 1, "name": "lilei", "flag": true, "nothing": nil, "ratio": 0.5,
        "people": ["name": "lilei", "age": 18],
        "list": [10, 20, 30],
        "m": ["k": "v", "0": "zero", "and": "word"],
        "key": "k", "i": 1,
        "staff": [["name": "a", "age": 17], ["name": "b", "age": 30], ["name": "c", "age": 40]],
    ]

    @Test func paths() throws {
        let c = Self.context
        #expect(try eval("[a]", c) == 1)
        #expect(try eval("a", c) == 1)
        #expect(try eval("['a']", c) == 1)
        #expect(try eval(#"["a"]"#, c) == 1)
        #expect(try eval("[people].name", c) == "lilei")
        #expect(try eval("people.age", c) == 18)
        #expect(try eval("[list][1]", c) == 20)
        #expect(try eval("list[2]", c) == 30)
        #expect(try eval("[m][k]", c) == "v")  // a bare name is the key itself
        #expect(try eval("[m][[key]]", c) == "v")  // any other key is evaluated against the root
        #expect(try eval("[m][0]", c) == "zero")
        #expect(try eval("[m].and", c) == "word")
        #expect(try eval("[list][[i]]", c) == 20)
        #expect(try eval("[name][0]", c) == "l")
        #expect(try eval("#root", c) == c)
        #expect(try eval("#this", c) == c)
        #expect(try eval("[missing]", c) == nil)
        #expect(try eval("[people].missing", c) == nil)
        #expect(try eval("[missing]?.b", c) == nil)
        #expect(try eval("[missing]?.size()", c) == nil)
        #expect(try eval("[missing]?.[0]", c) == nil)
        #expect(try eval("[list]?.[0]", c) == 10)
        #expect(evalError("[a]", [1])?.message == "cannot read 'a' of a list")
        #expect(try eval("[0]", [7, 8]) == 7)
    }

    @Test func readingThroughNullOrTheWrongKindFails() throws {
        let c = Self.context
        let cases: [(String, Int, Int, String)] = [
            ("[missing].b", 9, 2, "cannot read 'b' of null"),
            ("missing.b.c", 7, 2, "cannot read 'b' of null"),
            ("[nothing][x]", 9, 3, "cannot read 'x' of null"),
            ("[nothing]['x']", 9, 5, "cannot read 'x' of null"),
            ("[nothing][0]", 9, 3, "cannot index into null"),
            ("[a].b", 3, 2, "cannot read 'b' of a number"),
            ("[list].b", 6, 2, "cannot read 'b' of a list"),
            ("[list][3]", 7, 1, "index 3 is out of bounds"),
            ("[list][-1]", 7, 2, "index -1 is out of bounds"),
            ("[list]['x']", 7, 3, "a list index must be an integer, not a string"),
            ("[m][flag]", 0, 9, ""),  // a bare name on a map is a key: no error expected here
            ("[m][[flag]]", 4, 6, "a map key must be a string or an integer, not a boolean"),
            ("[flag][0]", 6, 3, "cannot index into a boolean"),
            ("[missing].size()", 9, 7, "cannot call size() on null"),
            ("[a].size()", 3, 7, "size() needs a list, a map or a string, not a number"),
        ]
        for (text, offset, length, message) in cases where !message.isEmpty {
            let error = try #require(evalError(text, c), "\(text)")
            #expect(error.offset == offset, "\(text): \(error)")
            #expect(error.length == length, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
        #expect(try eval("[m][flag]", c) == nil)
        // Through null at the root itself.
        #expect(evalError("a.b", nil)?.message == "cannot read 'a' of null")
    }

    @Test func equality() throws {
        let c: JSONValue = ["i": 1, "d": 1.0, "l1": [1, ["x": 2.0]], "l2": [1.0, ["x": 2]], "s": "1"]
        #expect(try eval("1 == 1.0") == true)
        #expect(try eval("[i] == [d]", c) == true)
        #expect(try eval("[l1] == [l2]", c) == true)
        #expect(try eval("[i] == [s]", c) == false)
        #expect(try eval("[missing] == null", c) == true)
        #expect(try eval("null == 0") == false)
        #expect(try eval("null != 0") == true)
        #expect(try eval("null == null") == true)
        #expect(try eval("'a' eq 'a'") == true)
        #expect(try eval("true ne false") == true)
        #expect(try eval("#root == null", nil) == true)
        #expect(try eval("#root != null", [:]) == true)
    }

    @Test func ordering() throws {
        #expect(try eval("1 < 2") == true)
        #expect(try eval("2 <= 2.0") == true)
        #expect(try eval("0.5 > 1") == false)
        #expect(try eval("3 >= 3") == true)
        #expect(try eval("'abc' < 'abd'") == true)
        #expect(try eval("'b' gt 'a'") == true)
        #expect(try eval("9223372036854775807 > 9223372036854775806") == true)
        let missing = try #require(evalError("[count] < 3"))
        #expect(missing.message == "'<' compares two numbers or two strings, not null and a number")
        #expect(missing.offset == 0 && missing.length == 11)
        let mixed = try #require(evalError("1 >= '1'"))
        #expect(mixed.message.contains("not a number and a string"))
        #expect(evalError("true > false") != nil)
    }

    @Test func arithmetic() throws {
        #expect(try eval("1 + 2 * 3") == 7)
        #expect(try eval("(1 + 2) * 3") == 9)
        #expect(try eval("7 / 2") == 3)
        #expect(try eval("-7 / 2") == -3)
        #expect(try eval("-7 % 3") == -1)
        #expect(try eval("7.0 / 2") == 3.5)
        #expect(try eval("7.5 % 2") == 1.5)
        #expect(try eval("10 div 4 + 10 mod 4") == 4)
        #expect(try eval("[a]-2", ["a": 5]) == 3)
        #expect(try eval("-[a]", ["a": 5]) == -5)
        #expect(try eval("+[a]", ["a": 5]) == 5)
        #expect(try eval("'n' + 1") == "n1")
        #expect(try eval("1 + 'n'") == "1n")
        #expect(try eval("1.5 + 'x' + true") == "1.5xtrue")
        #expect(try eval("2.0 + ''") == "2.0")
        #expect(try eval("null + 'x'") == "nullx")
        #expect(try eval("'l' + [l]", ["l": [1, "a"]]) == #"l[1,"a"]"#)
        #expect(try eval("1 + 2 + 'x'") == "3x")

        let byZero = try #require(evalError("[a] / 0", ["a": 1]))
        #expect(byZero.message == "division by zero")
        #expect(byZero.offset == 0 && byZero.length == 7)
        #expect(evalError("1.0 / 0")?.message == "division by zero")
        #expect(evalError("1 % 0")?.message == "division by zero")
        #expect(evalError("9223372036854775807 + 1")?.message == "integer overflow in '+'")
        #expect(evalError("1e300 * 1e300")?.message == "the result of '*' is too large")
        #expect(evalError("[missing] + 1")?.message == "'+' needs numbers or a string, not null and a number")
        #expect(evalError("true - 1")?.message == "'-' needs numbers, not a boolean and a number")
        #expect(evalError("-'x'")?.message == "'-' needs a number, not a string")
    }

    @Test func logic() throws {
        #expect(try eval("true && false") == false)
        #expect(try eval("true and true") == true)
        #expect(try eval("false || true") == true)
        #expect(try eval("!true") == false)
        #expect(try eval("NOT false") == true)
        // Short-circuit: the right side would fail.
        #expect(try eval("false && [missing].x") == false)
        #expect(try eval("true || 1 / 0 == 1") == true)
        let left = try #require(evalError("[a] && true", ["a": 1]))
        #expect(left.message == "'&&' needs booleans, but its left side is a number")
        #expect(left.offset == 0 && left.length == 3)
        let right = try #require(evalError("false or [x]"))
        #expect(right.message == "'||' needs booleans, but its right side is null")
        #expect(right.offset == 9)
        #expect(evalError("!1")?.message == "'!' needs a boolean, not a number")
    }

    @Test func ternaryAndElvis() throws {
        #expect(try eval("[a] > 0 ? 'pos' : 'neg'", ["a": 1]) == "pos")
        #expect(try eval("false ? 1 : true ? 2 : 3") == 2)
        #expect(try eval("true ? 1 : 1 / 0") == 1)
        let bad = try #require(evalError("[a] ? 1 : 2"))
        #expect(bad.message == "the condition before '?' must be a boolean, not null")
        #expect(try eval("[missing] ?: 'd'") == "d")
        #expect(try eval("'' ?: 'd'") == "d")
        #expect(try eval("[a] ?: 'd'", ["a": 0]) == 0)
    }

    @Test func sizeAndSelection() throws {
        let c = Self.context
        #expect(try eval("[list].size()", c) == 3)
        #expect(try eval("[people].size()", c) == 2)
        #expect(try eval("[name].size()", c) == 5)
        #expect(try eval("size()", ["x": 1, "y": 2]) == 2)
        #expect(try eval("#root.size() > 0", [1]) == true)
        // Inside a selection bare names and `[key]` read the element; `#root` stays the root.
        #expect(try eval("[staff].?[age > 18].size()", c) == 2)
        #expect(try eval("[staff].?[[age] > 18][0].name", c) == "b")
        #expect(try eval("[staff].?[#this[age] >= #root[people].age]", c)
            == [["name": "b", "age": 30], ["name": "c", "age": 40]])
        #expect(try eval("[staff].^[age > 18].name", c) == "b")
        #expect(try eval("[staff].$[age > 18].name", c) == "c")
        #expect(try eval("[staff].^[age > 99]", c) == nil)
        #expect(try eval("[list].?[#this > 15]", c) == [20, 30])
        #expect(try eval("[list].?[#this > 99].size() == 0", c) == true)
        #expect(try eval("[missing]?.?[#this > 1]", c) == nil)
        // The key of an indexer is read from the root even inside a selection.
        #expect(try eval("[staff].?[#this[[field]] == 'a'].size()", ["field": "name", "staff": c["staff"]!]) == 1)

        let notBool = try #require(evalError("[list].?[#this + 1]", c))
        #expect(notBool.message == "a selection condition must be a boolean, not a number")
        #expect(notBool.offset == 9 && notBool.length == 9)
        #expect(evalError("[m].?[true]", c)?.message == "a selection needs a list, not a map")
        #expect(evalError("[missing].?[true]", c)?.message == "cannot select from null")
    }

    @Test func seataLoopConditions() throws {
        let condition = try Condition.parse("[nrOfCompletedInstances] / [nrOfInstances] >= 0.4")
        #expect(try Evaluator.test(condition, root: ["nrOfCompletedInstances": 2.0, "nrOfInstances": 5.0], error: nil))
        #expect(try !Evaluator.test(condition, root: ["nrOfCompletedInstances": 1.0, "nrOfInstances": 5.0], error: nil))
        let loop = try Condition.parse("[loopResult].?[#this[fooResult] == null].size() == 0 && [a] == 1")
        let done: JSONValue = ["a": 1, "loopResult": [["fooResult": "x"], ["fooResult": "y"]]]
        let pending: JSONValue = ["a": 1, "loopResult": [["fooResult": "x"], [:]]]
        #expect(try Evaluator.test(loop, root: done, error: nil))
        #expect(try !Evaluator.test(loop, root: pending, error: nil))
        #expect(throws: EvaluationError.self) { try Evaluator.test(loop, root: ["a": 1], error: nil) }
    }
}

import Foundation

/// libFuzzer target (b): the expression language on arbitrary text.
///
/// The input, decoded leniently, is read the three ways a workflow uses expressions: as an
/// `Input`/`Output` leaf (`LeafExpression.parse`), as a `Status` key or `Choices` condition
/// (`Condition.parse`), and as bare SpEL (`ExpressionParser.parse`). Whatever parses is
/// evaluated against a few fixed roots, with and without a current error. Every error must
/// point into the text. Built and run by `scripts/fuzz.sh`.
@_cdecl("LLVMFuzzerTestOneInput")
public func expressionFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let count = text.unicodeScalars.count

    func check(_ error: ExpressionError, _ what: String) {
        FuzzCheck.span(offset: error.offset, length: error.length, count: count, "\(what) error '\(error.message)'")
    }
    func check(_ error: EvaluationError, _ what: String) {
        FuzzCheck.span(offset: error.offset, length: error.length, count: count, "\(what) evaluation error '\(error.message)'")
    }
    func checkTree(_ expr: Expr) {
        let extent = expr.extent
        FuzzCheck.span(offset: extent.offset, length: extent.length, count: count, "the parsed tree")
    }

    do {
        let leaf = try LeafExpression.parse(text)
        if case .path(let expr, _) = leaf { checkTree(expr) }
        for root in ExpressionFuzzRoots.all {
            for error in ExpressionFuzzRoots.errors {
                do {
                    _ = try Evaluator.evaluate(leaf, root: root, error: error, makeSequence: { "seq-1" })
                } catch {
                    check(error, "leaf")
                }
            }
        }
    } catch {
        check(error, "leaf")
    }

    do {
        let condition = try Condition.parse(text)
        if case .spel(let expr) = condition { checkTree(expr) }
        for root in ExpressionFuzzRoots.all {
            for error in ExpressionFuzzRoots.errors {
                do {
                    _ = try Evaluator.test(condition, root: root, error: error)
                } catch {
                    check(error, "condition")
                }
            }
        }
    } catch {
        check(error, "condition")
    }

    do {
        let expr = try ExpressionParser.parse(text)
        checkTree(expr)
        for root in ExpressionFuzzRoots.all {
            do {
                let value = try Evaluator.evaluate(expr, root: root)
                _ = value.jsonString()
            } catch {
                check(error, "expression")
            }
        }
    } catch {
        check(error, "expression")
    }
    return 0
}

/// The values expressions are evaluated against: nothing, an empty map, a typical order with
/// lists, nesting, extreme integers, a decimal and non-ASCII text, and a list root.
enum ExpressionFuzzRoots {
    static let all: [JSONValue] = [
        .null,
        .object([:]),
        order,
        .array([.int(1), .string("x"), .object(["k": .bool(false)]), .null]),
    ]

    static let errors: [ErrorName?] = [nil, ErrorName("ActionError.OutOfStock")]

    static let order: JSONValue = {
        let text = #"""
            {"orderId": "o-1", "amount": 120.5, "quantity": 3, "ok": true, "missing": null,
             "name": "Äpfel 😀", "s": "", "max": 9223372036854775807, "min": -9223372036854775808,
             "items": [{"sku": "a", "price": 10, "qty": 2}, {"sku": "b", "price": 0.5, "qty": 0}, {"sku": null}],
             "nested": {"a": {"b": {"c": [1, 2, [3, 4]]}}}, "list": [1, 2, 3], "empty": [], "1": "one"}
            """#
        do {
            return try JSONValue(parsing: text)
        } catch {
            fatalError("the fixed fuzz root does not parse: \(error)")
        }
    }()
}

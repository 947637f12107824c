import Foundation
import Testing

@testable import StateLang

/// Every input with which `scripts/fuzz.sh` found a defect is kept under `Fixtures/fuzz/` and
/// replayed here with the checks the fuzz targets make (`Fuzz/Support/FuzzCheck.swift`):
/// `workflow/` files go through the loader and the whole pipeline, as raw bytes and decoded
/// leniently, for `validate` and for `run`; `expression/` files through the three expression
/// parsers and the evaluator. A reproducer of a hang fails the time limit.
@Suite("Fuzz regressions", .timeLimit(.minutes(1)))
struct FuzzRegressionTests {
    static func names(_ folder: String) -> [String] {
        let directory = TestPaths.fixture("fuzz/\(folder)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    static let workflowReproducers = names("workflow")
    static let expressionReproducers = names("expression")

    @Test func reproducersArePresent() {
        #expect(!Self.workflowReproducers.isEmpty)
        #expect(!Self.expressionReproducers.isEmpty)
    }

    // MARK: Workflows

    @Test(arguments: workflowReproducers)
    func workflowReproducer(name: String) throws {
        let bytes = try Data(contentsOf: TestPaths.fixture("fuzz/workflow/\(name)"))
        let loaded = WorkflowLoader.load(data: bytes, path: name)
        for options in [ValidationOptions(), ValidationOptions(externalServices: ["inventory"], forExecution: true)] {
            check(WorkflowPipeline.finish(loaded, options: options), name: name)
        }
        check(WorkflowPipeline.compile(text: String(decoding: bytes, as: UTF8.self), path: name), name: name)
    }

    func check(_ result: WorkflowPipeline.Result, name: String) {
        #expect(!result.diagnostics.isEmpty || result.workflow != nil, "\(name): neither a diagnostic nor a workflow")
        #expect(result.workflow != nil || result.hasErrors, "\(name): no workflow, but no error says why")
        let renderer = DiagnosticRenderer()
        for diagnostic in result.diagnostics {
            for range in ([diagnostic.range] + diagnostic.notes.map(\.range)).compactMap({ $0 }) {
                // Only bytes refused as text have no source; their position counts bytes.
                guard let source = result.source else {
                    #expect(diagnostic.code == .notText, "\(name): \(diagnostic.code.id) has a position but no source")
                    continue
                }
                let line = source.line(range.start.line)
                #expect(line != nil, "\(name): \(diagnostic.code.id) at line \(range.start.line), not in the file")
                if let line {
                    #expect((1...line.unicodeScalars.count + 1).contains(range.start.column),
                            "\(name): \(diagnostic.code.id) at \(range.start), past the end of its line")
                }
            }
            #expect(renderer.render(diagnostic, path: name, source: result.source).hasPrefix(name))
        }
        if let workflow = result.workflow {
            #expect(!workflow.dot().isEmpty)
            #expect(!workflow.mermaid().isEmpty)
        }
    }

    // MARK: Expressions

    static let roots: [JSONValue] = [
        .null, .object([:]),
        [
            "orderId": "o-1", "amount": 120.5, "quantity": 3, "ok": true, "missing": nil, "s": "",
            "max": .int(.max), "min": .int(.min), "list": [1, 2, 3], "empty": [],
            "items": [["sku": "a", "price": 10, "qty": 2], ["sku": "b", "price": 0.5, "qty": 0], ["sku": nil]],
            "nested": ["a": ["b": ["c": [1, 2, [3, 4]]]]],
        ],
        [1, "x", ["k": false], nil],
    ]

    /// Sixteen nested selections over a three-element list: 3^16 steps, stopped at the budget.
    @Test func nestedSelectionsStopWithAnError() throws {
        var text = "true"
        for _ in 0..<16 { text = "#root[list].?[\(text)].size() > 0" }
        let expr = try ExpressionParser.parse(text)
        #expect(throws: EvaluationError.self) { try Evaluator.evaluate(expr, root: ["list": [1, 2, 3]]) }
        do {
            _ = try Evaluator.evaluate(expr, root: ["list": [1, 2, 3]])
        } catch {
            #expect(error.message.hasPrefix("evaluation stopped after 1000000 steps"))
        }
    }

    /// The budget leaves room for real data: a selection over 100,000 elements.
    @Test func aSelectionOverALargeListFitsTheBudget() throws {
        let items = JSONValue.array((0..<100_000).map { .object(["qty": .int($0 % 3)]) })
        let expr = try ExpressionParser.parse("[items].?[[qty] > 1].size()")
        #expect(try Evaluator.evaluate(expr, root: ["items": items]) == .int(33_333))
    }

    @Test(arguments: expressionReproducers)
    func expressionReproducer(name: String) throws {
        let data = try Data(contentsOf: TestPaths.fixture("fuzz/expression/\(name)"))
        let text = String(decoding: data, as: UTF8.self)
        let count = text.unicodeScalars.count
        func inside(_ offset: Int, _ length: Int) -> Bool {
            offset >= 0 && length >= 1 && offset + length <= count + 1
        }
        do {
            let leaf = try LeafExpression.parse(text)
            for root in Self.roots {
                do {
                    _ = try Evaluator.evaluate(leaf, root: root, error: ErrorName("ActionError.OutOfStock"), makeSequence: { "1" })
                } catch {
                    #expect(inside(error.offset, error.length), "\(name): leaf evaluation error at \(error.offset)")
                }
            }
        } catch {
            #expect(inside(error.offset, error.length), "\(name): leaf error at \(error.offset)")
        }
        do {
            let condition = try Condition.parse(text)
            for root in Self.roots {
                do {
                    _ = try Evaluator.test(condition, root: root, error: nil)
                } catch {
                    #expect(inside(error.offset, error.length), "\(name): condition evaluation error at \(error.offset)")
                }
            }
        } catch {
            #expect(inside(error.offset, error.length), "\(name): condition error at \(error.offset)")
        }
        do {
            let expr = try ExpressionParser.parse(text)
            #expect(inside(expr.extent.offset, expr.extent.length))
            for root in Self.roots {
                do {
                    _ = try Evaluator.evaluate(expr, root: root)
                } catch {
                    #expect(inside(error.offset, error.length), "\(name): evaluation error at \(error.offset)")
                }
            }
        } catch {
            #expect(inside(error.offset, error.length), "\(name): parse error at \(error.offset)")
        }
    }
}

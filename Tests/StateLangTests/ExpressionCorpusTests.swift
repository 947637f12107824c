import Foundation
import Testing
@testable import StateLang

/// The yardstick of DESIGN §3.3: every expression in the Java group of the Seata corpus parses
/// and evaluates.
@Suite("Expression corpus")
struct ExpressionCorpusTests {
    /// Counts as of the corpus in `SOURCES.md` (80 Java-group files, duplicates included), so a
    /// broken extraction cannot pass on zero.
    static let minimumCounts: [ExpressionCorpus.Place: Int] = [
        .input: 596, .output: 171, .status: 225, .choice: 128, .edge: 14,
        .loopCollection: 9, .loopCompletion: 9,
    ]

    @Test(TestPaths.corpusTrait) func javaGroupParsesAndEvaluates() throws {
        let files = try ExpressionCorpus.files(group: "java")
        #expect(files.count == 80)
        var counts: [ExpressionCorpus.Place: Int] = [:]
        var literals = 0, sequences = 0, exceptions = 0, lowercase = 0
        for url in files {
            for item in try ExpressionCorpus.items(in: url) {
                counts[item.place, default: 0] += 1
                let context = "\(item.file) \(item.state) \(item.place.rawValue) \(item.text)"
                do {
                    if item.place.isLeaf {
                        switch try check(leaf: item.text, context) {
                        case .literal: literals += 1
                        case .sequence: sequences += 1
                        case .exception: exceptions += 1
                        case .path: break
                        }
                    } else if case .exception(_, let lower) = try check(condition: item.text, context) {
                        exceptions += 1
                        if lower {
                            lowercase += 1
                            // Only Seata's parser fixture spells it this way (reference §12).
                            #expect(item.file.hasSuffix("statelang__simple_statemachine.json"), "\(context)")
                        }
                    }
                } catch {
                    Issue.record("\(context): \(error)")
                }
            }
        }
        let total = counts.values.reduce(0, +)
        print("expression corpus (java group, \(files.count) files): \(total) expressions")
        for place in counts.keys.sorted() { print("  \(place.rawValue): \(counts[place]!)") }
        print("  of which literal leaves \(literals), $Sequence \(sequences), $Exception \(exceptions) (lower-case \(lowercase))")
        for (place, minimum) in Self.minimumCounts {
            #expect(counts[place, default: 0] >= minimum, "\(place.rawValue): \(counts[place, default: 0])")
        }
        #expect(literals >= 75)
        #expect(sequences >= 3)
        #expect(exceptions >= 79)
        #expect(lowercase >= 6)
    }

    /// Parses a leaf and evaluates it against a root derived from what it reads.
    func check(leaf text: String, _ context: String) throws -> LeafExpression {
        let leaf = try LeafExpression.parse(text)
        var root: JSONValue = [:]
        if case .path(let expr, let offset) = leaf {
            #expect(offset == 2, "\(context)")
            root = ExpressionSampleRoot.build(for: expr)
        }
        let value: JSONValue
        do {
            value = try Evaluator.evaluate(leaf, root: root, error: ErrorName("DemoException")) { "generated-id" }
        } catch {
            Issue.record("\(context): \(error) with root \(root)")
            return leaf
        }
        switch leaf {
        case .literal(let literal): #expect(value == .string(literal), "\(context)")
        case .path: #expect(value != .null, "\(context): read null from \(root)")
        case .sequence: #expect(value == "generated-id", "\(context)")
        case .exception: #expect(value.boolValue != nil, "\(context)")
        }
        return leaf
    }

    /// Parses a condition and tests it (which requires a boolean) against a derived root.
    func check(condition text: String, _ context: String) throws -> Condition {
        let condition = try Condition.parse(text)
        var root: JSONValue = [:]
        if case .spel(let expr) = condition { root = ExpressionSampleRoot.build(for: expr) }
        do {
            _ = try Evaluator.test(condition, root: root, error: ErrorName("DemoException"))
        } catch {
            Issue.record("\(context): \(error) with root \(root)")
        }
        return condition
    }

    /// seata-go's `$CEL.` leaves are another engine's language: rejected with SL0504.
    @Test(TestPaths.corpusTrait) func goGroupCELIsAnUnknownType() throws {
        var count = 0
        for url in try ExpressionCorpus.files(group: "go") where url.pathExtension == "json" {
            for text in ExpressionCorpus.allStrings(try ExpressionCorpus.json(url)) where text.hasPrefix("$CEL.") {
                count += 1
                let error = try #require(ExpressionTestSupport.leafError(text), "\(text)")
                #expect(error.code == .unknownExpressionType)
                #expect(error.offset == 0 && error.length == 5)
            }
        }
        print("expression corpus (go group): \(count) '$CEL.' leaves rejected")
        #expect(count >= 37)
    }

    /// The derived roots are not vacuous: an expression that reads what the root lacks fails.
    @Test func derivedRootsCatchRealErrors() throws {
        let expr = try ExpressionParser.parse("[people].name")
        let root = ExpressionSampleRoot.build(for: expr)
        #expect(root == ["people": ["name": 1]])
        #expect(try Evaluator.evaluate(expr, root: root) == 1)
        let other = try ExpressionParser.parse("[people].age.years")
        #expect(throws: EvaluationError.self) { try Evaluator.evaluate(other, root: root) }
        let loop = try ExpressionParser.parse("[loopResult].?[#this[fooResult] == null].size() == 0 && [a] == 1")
        #expect(ExpressionSampleRoot.build(for: loop) == ["loopResult": [["fooResult": 1]], "a": 1])
    }
}

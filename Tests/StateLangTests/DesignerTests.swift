import Foundation
import Testing

@testable import StateLang

/// The Seata designer's `nodes`/`edges` format, converted to the standard state language.
@Suite("Designer format")
struct DesignerTests {
    // MARK: A complete document and its hand-written twin

    @Test func convertsEveryConstructLikeItsTwin() throws {
        let designer = WorkflowLoader.load(path: TestPaths.fixture("designer/order.designer.json").path)
        let twin = WorkflowLoader.load(path: TestPaths.fixture("designer/order.expected.yaml").path)
        #expect(twin.diagnostics.isEmpty)
        #expect(designer.diagnostics.map(\.code) == [.designerFormat])
        #expect(designer.diagnostics.first?.message == "converted from the Seata designer's nodes/edges format (11 states)")
        #expect(designer.syntax?.isDesignerFormat == true)
        #expect(twin.syntax?.isDesignerFormat == false)

        // The whole converted document, values included, equals the twin.
        let text = try String(contentsOf: TestPaths.fixture("designer/order.designer.json"), encoding: .utf8)
        let root = try #require(YAMLReader().read(text).root)
        let converted = try #require(DesignerFormat.convert(root).root)
        let expected = try #require(YAMLReader().read(try String(contentsOf: TestPaths.fixture("designer/order.expected.yaml"), encoding: .utf8)).root)
        #expect(converted.jsonValue == expected.jsonValue)

        // And so does the state order (the designer's node order) and the lowered shape.
        let states = try #require(designer.syntax?.states)
        #expect(states.map(\.name.value) == [
            "ReserveStock", "ReleaseStock", "CreateOrder", "CancelOrder", "CheckAmount", "TakePayment",
            "ApproveManually", "AuditLog", "Done", "CompensateAll", "Failed",
        ])
        #expect(try WorkflowShape(designer).states == WorkflowShape(twin).states)
        #expect(try WorkflowShape(designer).startState == "ReserveStock")
    }

    /// Converted nodes point back at the designer JSON, so later diagnostics land there.
    @Test func convertedNodesKeepDesignerRanges() throws {
        let result = WorkflowLoader.load(path: TestPaths.fixture("designer/order.designer.json").path)
        let syntax = try #require(result.syntax)
        let source = try #require(result.source)
        func text(_ range: SourceRange?) -> String? {
            guard let range, range.start.line == range.end.line, let line = source.line(range.start.line) else { return nil }
            let scalars = Array(line.unicodeScalars)
            guard range.start.column >= 1, range.end.column - 1 <= scalars.count else { return nil }
            return String(String.UnicodeScalarView(scalars[(range.start.column - 1)..<(range.end.column - 1)]))
        }
        // The machine's name comes from the Start node's StateMachine properties.
        #expect(text(syntax.name?.range) == "\"orderSaga\"")
        // StartState points at the target of the Start node's edge.
        #expect(text(syntax.startState?.range) == "\"n-reserve\"")
        #expect(syntax.startState?.range.start.line == 89)
        // A state's name is its stateId; its Type is the node's stateType.
        let release = try #require(syntax.state(named: "ReleaseStock"))
        #expect(text(release.name.range) == "\"ReleaseStock\"")
        #expect(text(release.typeName?.range) == "\"Compensation\"")
        #expect(release.typeName?.value == "ServiceTask")
        #expect(release.isForCompensation?.value == true)
        // Next and CompensateState point at the edge targets, Catch entries at their edges.
        let reserve = try #require(syntax.state(named: "ReserveStock"))
        #expect(text(reserve.next?.range) == "\"n-create\"")
        #expect(text(reserve.compensateState?.range) == "\"n-release\"")
        #expect(reserve.serviceName.flatMap { text($0.range) } == "\"inventory\"")
        let pay = try #require(syntax.state(named: "TakePayment"))
        let catches = try #require(pay.catches?.value)
        #expect(catches.map(\.range.start.line) == [99, 100])
        #expect(text(catches[0].exceptions?.value.first?.range) == "\"ActionError.CardDeclined\"")
        let choice = try #require(syntax.state(named: "CheckAmount"))
        #expect(choice.choices?.value.map { text($0.expression?.range) } == ["\"[amount] <= 1000\"", "\"[amount] > 1000\""])
        #expect(text(choice.defaultNext?.range) == "\"n-failed\"")
    }

    // MARK: The corpus

    static let designerFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.corpus.path)) ?? []
        return names.filter { name in
            guard name.hasSuffix(".json"), let data = FileManager.default.contents(atPath: TestPaths.corpusFile(name).path)
            else { return false }
            return String(decoding: data, as: UTF8.self).contains("\"nodes\"")
        }.sorted()
    }()

    @Test(TestPaths.corpusTrait) func theCorpusHasNineDesignerFiles() {
        #expect(Self.designerFiles.count == 9)
    }

    static let compensationLayouts = [
        "apache__incubator-seata__compatible__src__test__resources__saga__statelang__simple_statemachine_with_layout.json",
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_layout.json",
        "apache__incubator-seata__test__src__test__resources__saga__statelang__designer_statelang_with_compensation_and_sub_machine.json",
        "seata__seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_statemachine_with_layout.json",
        "seata__seata__test__src__test__resources__saga__statelang__designer_statelang_with_compensation_and_sub_machine.json",
    ]

    /// The layout files are drawings of `simple_statelang_with_compensation_and_sub_machine`
    /// at an earlier stage: the twin has since gained a third branch (`CallSubStateMachineAsUpdate`)
    /// and catches a different exception. Apart from those, the conversion must equal it.
    @Test(TestPaths.corpusTrait, arguments: compensationLayouts)
    func compensationLayoutMatchesItsTwin(file: String) throws {
        let designer = WorkflowLoader.load(path: TestPaths.corpusFile(file).path)
        #expect(designer.diagnostics.map(\.code) == [.designerFormat])
        let twinFile = (file.hasPrefix("seata__seata__") ? "seata__seata" : "apache__incubator-seata")
            + "__test__src__test__resources__saga__statelang__simple_statelang_with_compensation_and_sub_machine.json"
        let twin = WorkflowLoader.load(path: TestPaths.corpusFile(twinFile).path)
        #expect(!twin.hasErrors)

        var expected = try WorkflowShape(twin)
        expected.states["CallSubStateMachineAsUpdate"] = nil
        expected.states["ChoiceState"]?.choices.removeAll { $0.next == "CallSubStateMachineAsUpdate" }
        let package = file.hasPrefix("seata__seata__") || file.contains("__compatible__") ? "io.seata" : "org.apache.seata"
        expected.states["SecondState"]?.catches = [
            CatchShape(exceptions: ["\(package).common.exception.FrameworkException"], next: "CompensationTrigger")
        ]
        let actual = try WorkflowShape(designer)
        #expect(actual.name == "simpleStateMachineWithCompensationAndSubMachine_layout")
        #expect(actual.startState == expected.startState)
        #expect(actual.states == expected.states)
        // The compensation node is a ServiceTask that compensates FirstState.
        #expect(actual.states["CompensateFirstState"]?.type == "ServiceTask")
        #expect(actual.states["FirstState"]?.compensateState == "CompensateFirstState")
    }

    static let scriptDesigners = [
        "apache__incubator-seata__test__src__test__resources__saga__statelang__designer_simple_statelang_with_script.json",
        "seata__seata__test__src__test__resources__saga__statelang__designer_simple_statelang_with_script.json",
    ]

    /// The designer version of `simple_statelang_with_script` names three states differently
    /// and has no Catch on SecondState; apart from those, the conversion must equal it.
    @Test(TestPaths.corpusTrait, arguments: scriptDesigners)
    func scriptDesignerMatchesItsTwin(file: String) throws {
        let designer = WorkflowLoader.load(path: TestPaths.corpusFile(file).path)
        #expect(designer.diagnostics.map(\.code) == [.designerFormat])
        let twinFile = (file.hasPrefix("seata__seata__") ? "seata__seata" : "apache__incubator-seata")
            + "__test__src__test__resources__saga__statelang__simple_statelang_with_script.json"
        let twin = WorkflowLoader.load(path: TestPaths.corpusFile(twinFile).path)
        #expect(!twin.hasErrors)

        var expected = try WorkflowShape(twin)
        expected.states["SecondState"]?.catches = []
        let actual = try WorkflowShape(designer).renaming(["Choice1": "ChoiceState", "Succeed1": "Succeed", "Fail1": "Fail"])
        #expect(actual.name == "designerSimpleScriptTaskStateMachine")
        #expect(actual.startState == expected.startState)
        #expect(actual.states == expected.states)
        #expect(actual.states["ScriptState"]?.catches == [CatchShape(exceptions: ["java.lang.Throwable"], next: "Fail")])
    }

    static let parallelDesigners = [
        "apache__incubator-seata__saga__seata-saga-statelang__src__test__resources__statelang__simple_parallel_statemachine_with_layout.json",
        "apache__incubator-seata__test__src__test__resources__saga__statelang__designer_simple_parallel_statemachine.json",
    ]

    /// The Parallel proposal's designer files convert; the lowering reports its state types.
    @Test(TestPaths.corpusTrait, arguments: parallelDesigners)
    func parallelDesignerIsReportedAsUnsupported(file: String) throws {
        let result = WorkflowLoader.load(path: TestPaths.corpusFile(file).path)
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == [.unsupportedStateType, .unsupportedStateType])
        #expect(errors.map { $0.message.contains("ParallelStart") || $0.message.contains("ParallelEnd") } == [true, true])
        let shape = try WorkflowShape(result)
        #expect(shape.startState == "ServiceTask1")
        #expect(shape.states.count == 16)
        // The Catch node on ServiceTask5 adds to the Catch it already has in stateProps.
        #expect(shape.states["ServiceTask5"]?.catches.last == CatchShape(exceptions: ["java.lang.Throwable"], next: "CompensationTrigger1"))
        #expect(shape.states["ServiceTask1"]?.compensateState == "Compensation1")
    }

    // MARK: Damaged documents

    /// Random damage to a valid designer document (values of the wrong kind, missing keys,
    /// edges re-pointed to other nodes, moved rectangles): conversion and lowering always
    /// finish, a nil result always comes with an error, and every position is in the file.
    @Test func damagedDocumentsNeverCrash() throws {
        let text = try String(contentsOf: TestPaths.fixture("designer/order.designer.json"), encoding: .utf8)
        let root = try #require(YAMLReader().read(text).root)
        let source = SourceFile(path: "order.designer.json", text: text)
        var generator = SeededGenerator(seed: 11)
        var converted = 0
        for _ in 0..<400 {
            let damaged = Self.damage(root, using: &generator)
            let (standard, diagnostics) = DesignerFormat.convert(damaged)
            var all = diagnostics
            if let standard {
                converted += 1
                all += WorkflowLowering.lower(standard).1
            } else {
                #expect(diagnostics.contains { $0.severity == .error })
            }
            for diagnostic in all {
                for range in [diagnostic.range] + diagnostic.notes.map(\.range) {
                    guard let range else { continue }
                    #expect(source.line(range.start.line) != nil, "\(diagnostic.message) at \(range)")
                }
            }
        }
        #expect(converted > 300)  // the damage is mostly local: most documents still convert
    }

    static func damage(_ node: SyntaxNode, using generator: inout SeededGenerator) -> SyntaxNode {
        let ids = ["n-start", "n-reserve", "n-release", "n-check", "n-pay", "n-catch-pay", "n-failed", "nowhere"]
        var node = node
        if Double.random(in: 0..<1, using: &generator) < 0.04 {
            let replacements: [SyntaxNode.Kind] = [
                .scalar(ScalarSyntax(text: "x", style: .plain)),
                .scalar(ScalarSyntax(text: "", style: .plain)),
                .scalar(ScalarSyntax(text: "12.5", style: .plain)),
                .scalar(ScalarSyntax(text: ids.randomElement(using: &generator)!, style: .doubleQuoted)),
                .scalar(ScalarSyntax(text: "\(Int.random(in: 0...600, using: &generator))*40", style: .doubleQuoted)),
                .mapping([]),
                .sequence([]),
            ]
            node.kind = replacements.randomElement(using: &generator)!
            return node
        }
        switch node.kind {
        case .scalar:
            break
        case .sequence(let items):
            node.kind = .sequence(items.map { damage($0, using: &generator) })
        case .mapping(let entries):
            var kept: [SyntaxEntry] = []
            for var entry in entries where Double.random(in: 0..<1, using: &generator) >= 0.03 {
                entry.value = damage(entry.value, using: &generator)
                kept.append(entry)
            }
            node.kind = .mapping(kept)
        }
        return node
    }

    // MARK: The converter on its own

    @Test func recognisesDesignerDocuments() throws {
        func root(_ text: String) throws -> SyntaxNode { try #require(YAMLReader().read(text).root) }
        #expect(DesignerFormat.isDesignerDocument(try root("{nodes: [], edges: []}")))
        #expect(!DesignerFormat.isDesignerDocument(try root("{nodes: []}")))
        #expect(!DesignerFormat.isDesignerDocument(try root("{States: {}, edges: []}")))
        #expect(!DesignerFormat.isDesignerDocument(try root("[nodes, edges]")))
    }

    @Test func nothingToConvertWhenNodesIsNotAList() throws {
        let root = try #require(YAMLReader().read("nodes: 3\nedges: []\n").root)
        let (converted, diagnostics) = DesignerFormat.convert(root)
        #expect(converted == nil)
        #expect(diagnostics.map(\.code) == [.wrongType])
        #expect(diagnostics.first?.range?.start == SourcePosition(line: 1, column: 8))
    }

    @Test func convertingAStandardDocumentIsAnError() throws {
        let root = try #require(YAMLReader().read("StartState: A\nStates: {A: {Type: Succeed}}\n").root)
        let (converted, diagnostics) = DesignerFormat.convert(root)
        #expect(converted == nil)
        #expect(diagnostics.map(\.code) == [.designerInvalid])
        #expect(diagnostics.first?.severity == .error)
    }

    /// A Catch edge without stateProps: Seata drops it silently; here the lowering reports the
    /// Catch entry without Exceptions, at the edge.
    @Test func catchEdgeWithoutExceptionsIsReportedAtTheEdge() throws {
        let text = """
            {"nodes": [
              {"id": "s", "stateType": "Start"},
              {"id": "t", "stateId": "Task", "stateType": "ServiceTask", "x": 0, "y": 0, "size": "110*48"},
              {"id": "c", "stateType": "Catch", "x": 50, "y": 20, "size": "39*39"},
              {"id": "f", "stateId": "Failed", "stateType": "Fail"}
            ],
            "edges": [
              {"source": "s", "target": "t"},
              {"source": "c", "target": "f"}
            ]}
            """
        let result = WorkflowLoader.load(text: text, path: "catch.json")
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == [.missingKey])
        #expect(errors.first?.range?.start == SourcePosition(line: 9, column: 3))
        #expect(result.syntax?.state(named: "Task")?.catches?.value.first?.next?.value == "Failed")
    }
}

// MARK: Shapes

/// What the twin comparisons compare: per state, its type and every way out of it.
struct WorkflowShape: Equatable {
    var name: String?
    var startState: String?
    var states: [String: StateShape]

    init(_ result: WorkflowLoader.Result, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let syntax = try #require(result.syntax, sourceLocation: sourceLocation)
        name = syntax.name?.value
        startState = syntax.startState?.value
        let compensations = Set(syntax.states.compactMap(\.compensateState?.value))
        states = [:]
        for state in syntax.states {
            states[state.name.value] = StateShape(
                type: state.typeName?.value,
                next: state.next?.value,
                compensateState: state.compensateState?.value,
                // Seata marks a state as a compensation when written, or when a CompensateState names it.
                isCompensation: state.isForCompensation?.value == true || compensations.contains(state.name.value),
                catches: (state.catches?.value ?? []).map {
                    CatchShape(exceptions: $0.exceptions?.value.map(\.value) ?? [], next: $0.next?.value)
                },
                choices: (state.choices?.value ?? []).map { ChoiceShape(expression: $0.expression?.value, next: $0.next?.value) },
                defaultNext: state.defaultNext?.value)
        }
    }

    /// The same shape with states renamed, in names and in every reference.
    func renaming(_ names: [String: String]) -> WorkflowShape {
        func rename(_ name: String?) -> String? { name.map { names[$0] ?? $0 } }
        var copy = self
        copy.startState = rename(startState)
        copy.states = Dictionary(uniqueKeysWithValues: states.map { name, state in
            var state = state
            state.next = rename(state.next)
            state.compensateState = rename(state.compensateState)
            state.defaultNext = rename(state.defaultNext)
            state.catches = state.catches.map { CatchShape(exceptions: $0.exceptions, next: rename($0.next)) }
            state.choices = state.choices.map { ChoiceShape(expression: $0.expression, next: rename($0.next)) }
            return (names[name] ?? name, state)
        })
        return copy
    }
}

struct StateShape: Equatable {
    var type: String?
    var next: String?
    var compensateState: String?
    var isCompensation: Bool
    var catches: [CatchShape]
    var choices: [ChoiceShape]
    var defaultNext: String?
}

struct CatchShape: Equatable {
    var exceptions: [String]
    var next: String?
}

struct ChoiceShape: Equatable {
    var expression: String?
    var next: String?
}

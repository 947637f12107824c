import Foundation
@testable import StateLang
import Testing

/// Behaviour of the validator beyond "which code on which line" (the fixtures cover that):
/// options, messages, shared facts, and graph algorithms on large inputs.
@Suite struct ValidatorRuleTests {
    static func workflow(_ text: String) throws -> WorkflowSyntax {
        let loaded = WorkflowLoader.load(text: text, path: "test.yaml")
        #expect(!loaded.hasErrors, "the test workflow must load: \(loaded.diagnostics.map(\.message))")
        return try #require(loaded.syntax)
    }

    static func codes(_ diagnostics: [Diagnostic]) -> [String] { diagnostics.map(\.code.id) }

    @Test func everyRuleTypeIsRegisteredOnce() {
        let names = Validator.rules.map { String(describing: type(of: $0)) }
        #expect(Set(names).count == names.count, "a rule is registered twice: \(names)")
        #expect(names.count == 23)
    }

    @Test func everyRuleRunsEvenWhenEarlierOnesFindErrors() throws {
        let diagnostics = Validator.validate(try Self.workflow("""
            Name: many
            StartState: Nowhere
            Services:
              api: { Type: spring }
            States:
              Call:
                Type: ServiceTask
                ServiceName: api
                ServiceMethod: call
                Status: { "#root": SUCCEEDED }
                Retry: [{ MaxAttempts: -1 }]
                Next: Missing
              Pick:
                Type: Choice
            """))
        let codes = Set(Self.codes(diagnostics))
        #expect(codes.isSuperset(of: ["SL0102", "SL0103", "SL0309", "SL0401", "SL0402", "SL0408"]), "\(codes)")
    }

    @Test func diagnosticsComeOutInFileOrder() throws {
        let diagnostics = Validator.validate(try Self.workflow("""
            StartState: A
            States:
              A: { Type: ServiceTask, ServiceName: s, Next: X }
              B: { Type: Choice, Choices: [] }
              C: { Type: Succeed }
            """))
        let positions = diagnostics.compactMap { $0.range?.start }
        #expect(positions.count == diagnostics.count)
        #expect(positions == positions.sorted())
    }

    // MARK: Options

    static let unsupported = """
        Name: unsupported
        StartState: Script
        States:
          Script:
            Type: ScriptTask
            ScriptType: groovy
            ScriptContent: "1"
            Loop: { Parallel: 1, Collection: "$.[items]" }
            Next: Done
          Done: { Type: Succeed }
        """

    @Test func unsupportedFeaturesWarnWhenValidatingAndFailWhenRunning() throws {
        let workflow = try Self.workflow(Self.unsupported)
        let validating = Validator.validate(workflow)
        let running = Validator.validate(workflow, options: ValidationOptions(forExecution: true))
        for code in [DiagnosticCode.unsupportedScriptType, .loopNotSupported] {
            #expect(validating.filter { $0.code == code }.map(\.severity) == [.warning])
            #expect(running.filter { $0.code == code }.map(\.severity) == [.error])
        }
        #expect(validating.first { $0.code == .unsupportedScriptType }?.message
            == "groovy scripts are not supported; use ScriptType: expression")
    }

    static let twoServices = """
        Name: services
        StartState: A
        States:
          A: { Type: ServiceTask, ServiceName: inventory, ServiceMethod: m, Next: B }
          B: { Type: ServiceTask, ServiceName: payments, ServiceMethod: m, Next: Done }
          Done: { Type: Succeed }
        """

    @Test func withoutAnyBindingOneNoteListsTheServices() throws {
        let diagnostics = Validator.validate(try Self.workflow(Self.twoServices)).filter { $0.code == .unboundService }
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.severity == .note)
        #expect(diagnostics.first?.message.contains("'inventory' and 'payments'") == true)
    }

    @Test func externalServicesBindNames() throws {
        let workflow = try Self.workflow(Self.twoServices)
        let all = Validator.validate(workflow, options: ValidationOptions(externalServices: ["inventory", "payments"]))
        #expect(!all.contains { $0.code == .unboundService })
        let some = Validator.validate(workflow, options: ValidationOptions(externalServices: ["inventory"]))
            .filter { $0.code == .unboundService }
        #expect(some.map(\.severity) == [.warning])
        #expect(some.first?.message == "service 'payments' has no binding in 'Services' or the --services file")
        // An empty services file still means the author binds services: every name is unbound.
        let none = Validator.validate(workflow, options: ValidationOptions(externalServices: []))
        #expect(none.filter { $0.code == .unboundService }.map(\.severity) == [.warning, .warning])
    }

    // MARK: Messages

    @Test func referencesSuggestTheClosestStateName() throws {
        let diagnostics = Validator.validate(try Self.workflow("""
            StartState: Reserve
            States:
              Reserve: { Type: ServiceTask, ServiceName: s, CompensateState: Relase, Next: Paymnt }
              Release: { Type: ServiceTask, ServiceName: s }
              Payment: { Type: Succeed }
            """))
        #expect(diagnostics.contains {
            $0.code == .unknownNextState && $0.message == "'Next' of 'Reserve' names 'Paymnt', which is not a state; did you mean 'Payment'?"
        })
        #expect(diagnostics.contains {
            $0.code == .unknownCompensateState && $0.message.hasSuffix("did you mean 'Release'?")
                && $0.hint?.contains("needing intervention") == true
        })
    }

    /// Each kind of reference says which key it is and suggests the state meant, at the
    /// misspelt name.
    @Test func catchChoiceAndDefaultTargetsSuggestTheClosestStateName() throws {
        let text = """
            StartState: Pay
            States:
              Pay:
                Type: ServiceTask
                ServiceName: payments
                ServiceMethod: pay
                Catch:
                  - Exceptions: [Throwable]
                    Next: Faild
                Next: Route
              Route:
                Type: Choice
                Choices:
                  - Expression: "[ok]"
                    Next: Dnoe
                Default: Don
              Done:
                Type: Succeed
              Failed:
                Type: Fail
            """
        let diagnostics = Validator.validate(try Self.workflow(text)).filter { $0.code == .unknownNextState }
        #expect(diagnostics.map(\.message) == [
            "'Catch[0].Next' of 'Pay' names 'Faild', which is not a state; did you mean 'Failed'?",
            "'Choices[0].Next' of 'Route' names 'Dnoe', which is not a state; did you mean 'Done'?",
            "'Default' of 'Route' names 'Don', which is not a state; did you mean 'Done'?",
        ])
        #expect(diagnostics.map { $0.range.map { "\($0.start)" } } == ["9:15", "15:15", "16:14"])
        // With a suggestion there is no generic hint to add a state.
        #expect(diagnostics.allSatisfy { $0.hint == nil })
    }

    @Test(arguments: [("SUCCEEDED", "SU"), ("success", "SU"), ("FAILED", "FA"), ("UNKNOWN", "UN"), ("SX", "SU")])
    func statusLongFormsSuggestTheCode(_ written: String, _ code: String) throws {
        let diagnostics = Validator.validate(try Self.workflow("""
            StartState: A
            States:
              A: { Type: ServiceTask, ServiceName: s, Status: { "#root": \(written) }, Next: B }
              B: { Type: Succeed }
            """)).filter { $0.code == .invalidStatusCode }
        #expect(diagnostics.map(\.message) == ["'\(written)' is not a status code; did you mean '\(code)'?"])
    }

    @Test func javaExceptionNotesSayWhatTheNameMapsTo() throws {
        let diagnostics = Validator.validate(try Self.workflow("""
            StartState: A
            States:
              A:
                Type: ServiceTask
                ServiceName: s
                Catch: [{ Exceptions: [java.lang.Exception, io.x.DemoException, Throwable], Next: B }]
                Next: B
              B: { Type: Succeed }
            """)).filter { $0.code == .javaExceptionName }
        #expect(diagnostics.count == 2)
        #expect(diagnostics[0].message.contains("as 'Throwable'"))
        #expect(diagnostics[1].message.contains("simple name 'DemoException'"))
    }

    // MARK: Shared facts

    @Test func contextKnowsReachabilityCompensationAndTriggerRoutes() throws {
        let workflow = try Self.workflow("""
            StartState: Reserve
            States:
              Reserve:
                Type: ServiceTask
                ServiceName: s
                CompensateState: Release
                Catch: [{ Exceptions: [Throwable], Next: Decide }]
                Next: Done
              Decide: { Type: Choice, Choices: [{ Expression: "[x]", Next: Rollback }], Default: Done }
              Release: { Type: ServiceTask, ServiceName: s }
              Rollback: { Type: CompensationTrigger, Next: Done }
              Done: { Type: Succeed }
              Orphan: { Type: Succeed }
            """)
        let context = ValidationContext(workflow)
        func index(_ name: String) throws -> Int { try #require(context.index(of: name)) }
        #expect(context.startIndex == (try index("Reserve")))
        #expect(context.reachable == Set(try ["Reserve", "Decide", "Rollback", "Done"].map(index)))
        #expect(context.reachedByCompensation == [try index("Release")])
        #expect(context.compensationStates == [try index("Release")])
        #expect(context.leadsToCompensationTrigger == Set(try ["Reserve", "Decide", "Rollback"].map(index)))
        #expect(context.cycles.isEmpty)
        #expect(context.edges[try index("Reserve")].map(\.keyDescription) == ["Next", "Catch[0].Next"])
    }

    @Test func aChoiceNextIsAReferenceButNotAForwardEdge() throws {
        let context = ValidationContext(try Self.workflow("""
            StartState: C
            States:
              C: { Type: Choice, Choices: [{ Expression: "[x]", Next: A }], Default: A, Next: B }
              A: { Type: Succeed }
              B: { Type: Succeed }
            """))
        let choice = try #require(context.index(of: "C"))
        #expect(context.edges[choice].count == 3)
        #expect(context.successors[choice] == [try #require(context.index(of: "A"))])
    }

    // MARK: Graph algorithms

    @Test func stronglyConnectedComponentsOfASmallGraph() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 → 3, 4 alone.
        let components = FlowGraph.stronglyConnectedComponents(successors: [[1], [2], [0, 3], [3], []])
        #expect(components == [[0, 1, 2], [3], [4]])
        #expect(FlowGraph.cycle(through: 0, within: [0, 1, 2], successors: [[1], [2], [0, 3], [3], []]) == [0, 1, 2, 0])
        #expect(FlowGraph.cycle(through: 3, within: [3], successors: [[1], [2], [0, 3], [3], []]) == [3, 3])
        #expect(FlowGraph.cycle(through: 4, within: [4], successors: [[1], [2], [0, 3], [3], []]) == nil)
    }

    /// Built directly (not parsed) so the test measures the validator, not the YAML reader.
    static func chain(_ count: Int, lastNext: Int) -> WorkflowSyntax {
        let here = SourceRange(at: SourcePosition(line: 1, column: 1))
        var workflow = WorkflowSyntax(range: here)
        workflow.startState = Located("S0", here)
        workflow.states = (0...count).map { i in
            var state = StateSyntax(name: Located("S\(i)", SourceRange(at: SourcePosition(line: i + 1, column: 1))), range: here)
            state.typeName = Located("ScriptTask", here)
            state.type = .scriptTask
            state.scriptType = Located("expression", here)
            state.next = Located("S\(i == count ? lastNext : i + 1)", here)
            state.keys = [Located("Type", here), Located("ScriptType", here), Located("Next", here)]
            return state
        }
        return workflow
    }

    @Test func aLongChainEndingInATrapIsFoundWithoutDeepRecursion() throws {
        let count = 20_000
        // The last state loops back into the chain's last hundred states: a trap far from the start.
        let diagnostics = Validator.validate(Self.chain(count, lastNext: count - 100))
        let cycles = diagnostics.filter { $0.code == .cycleWithoutExit }
        #expect(cycles.count == 1)
        #expect(cycles.first?.message.contains("'S\(count - 100)'") == true)
        #expect(cycles.first?.range?.start.line == count - 100 + 1)
        #expect(diagnostics.count == 1, "\(Set(diagnostics.map(\.code.id)))")
    }
}

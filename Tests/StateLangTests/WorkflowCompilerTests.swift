import Foundation
import Testing

@testable import StateLang

/// The compiled graph of one small workflow: how states are numbered, names resolved, edges
/// typed, defaults filled and source ranges kept, and what the fingerprint covers.
@Suite("Compiler: the compiled graph")
struct WorkflowCompilerTests {
    /// Every edge kind, a compensation state written before the state it undoes (so file
    /// order, start-first order and alphabetical order all differ), one Retry entry with
    /// defaults and one with every field written.
    static let checkout = """
        Name: checkout
        Version: "2"
        StartState: Reserve
        States:
          Release:
            Type: ServiceTask
            ServiceName: inventory
            ServiceMethod: release
          Reserve:
            Type: ServiceTask
            ServiceName: inventory
            ServiceMethod: reserve
            CompensateState: Release
            Input: [{ orderId: "$.[orderId]", source: web }]
            Retry:
              - Exceptions: [NetworkError]
              - { Exceptions: [HTTP.5xx], IntervalSeconds: 0.5, MaxAttempts: 2, BackoffRate: 2, MaxDelaySeconds: 4, JitterStrategy: FULL }
            Catch:
              - Exceptions: [ActionError.OutOfStock, Timeout]
                Next: Rollback
            Next: Route
          Route:
            Type: Choice
            Choices:
              - Expression: "[amount] > 100"
                Next: Review
            Default: Done
          Review:
            Type: ServiceTask
            ServiceName: review
            ServiceMethod: check
            IsAsync: true
            IsPersist: false
            TimeoutSeconds: 2.5
            Next: Done
          Done:
            Type: Succeed
          Rollback:
            Type: CompensationTrigger
            Next: Failed
          Failed:
            Type: Fail
            ErrorCode: OUT_OF_STOCK
        """

    static func compile(_ text: String) throws -> Workflow {
        let loaded = WorkflowLoader.load(text: text, path: "checkout.yaml")
        #expect(!loaded.hasErrors, "the test workflow must load: \(loaded.diagnostics.map(\.message))")
        let syntax = try #require(loaded.syntax)
        let (workflow, diagnostics) = WorkflowCompiler.compile(syntax, source: loaded.source)
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
        return try #require(workflow)
    }

    /// The 1-based line and column where `fragment` first occurs in `text`.
    static func position(of fragment: String, in text: String) throws -> SourcePosition {
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let range = line.range(of: fragment) {
                return SourcePosition(line: offset + 1, column: line.unicodeScalars[..<range.lowerBound].count + 1)
            }
        }
        throw PositionNotFound(fragment: fragment)
    }

    struct PositionNotFound: Error { var fragment: String }

    static func id(_ name: String, in workflow: Workflow) throws -> StateID {
        try #require(workflow.state(named: name), "no state '\(name)'").id
    }

    // MARK: Numbering and names

    @Test func statesAreNumberedInFileOrderAndTheStartIsResolved() throws {
        let workflow = try Self.compile(Self.checkout)
        #expect(workflow.states.map(\.name) == ["Release", "Reserve", "Route", "Review", "Done", "Rollback", "Failed"])
        #expect(workflow.states.map(\.id) == Array(0..<7))
        for state in workflow.states { #expect(workflow[state.id].name == state.name) }
        #expect(workflow.startState == 1)
        #expect(workflow.name == "checkout")
        #expect(workflow.version == "2")
        #expect(workflow.path == "checkout.yaml")
        #expect(workflow.states.map(\.type) == [
            .serviceTask, .serviceTask, .choice, .serviceTask, .succeed, .compensationTrigger, .fail,
        ])
    }

    @Test func everyNameIsResolvedToTheStateItNames() throws {
        let workflow = try Self.compile(Self.checkout)
        let reserve = try #require(workflow.state(named: "Reserve"))
        #expect(reserve.next == (try Self.id("Route", in: workflow)))
        let task = try #require(reserve.task)
        #expect(task.compensateState == (try Self.id("Release", in: workflow)))
        #expect(task.catches.map(\.next) == [try Self.id("Rollback", in: workflow)])
        guard case .choice(let choice) = try #require(workflow.state(named: "Route")).kind else {
            Issue.record("Route is not a Choice")
            return
        }
        #expect(choice.branches.map(\.next) == [try Self.id("Review", in: workflow)])
        #expect(choice.branches.map(\.text) == ["[amount] > 100"])
        #expect(choice.defaultNext == (try Self.id("Done", in: workflow)))
        #expect(try #require(workflow.state(named: "Rollback")).next == (try Self.id("Failed", in: workflow)))
        #expect(try #require(workflow.state(named: "Done")).next == nil)
        #expect(workflow.state(named: "Nowhere") == nil)
    }

    // MARK: Edges

    /// The edges come state by state in id order, and within a state as `Next`, `Catch`
    /// routes, `CompensateState` (a Choice: its branches, then `Default`). The DOT and Mermaid
    /// renderings follow this order, so it is part of what makes their golden files stable.
    @Test func edgesListEveryKindInADefinedOrder() throws {
        let workflow = try Self.compile(Self.checkout)
        func id(_ name: String) throws -> StateID { try Self.id(name, in: workflow) }
        let expected: [Edge] = [
            Edge(from: try id("Reserve"), to: try id("Route"), kind: .next),
            Edge(from: try id("Reserve"), to: try id("Rollback"), kind: .catch(["ActionError.OutOfStock", "Timeout"])),
            Edge(from: try id("Reserve"), to: try id("Release"), kind: .compensate),
            Edge(from: try id("Route"), to: try id("Review"), kind: .choice("[amount] > 100")),
            Edge(from: try id("Route"), to: try id("Done"), kind: .defaultChoice),
            Edge(from: try id("Review"), to: try id("Done"), kind: .next),
            Edge(from: try id("Rollback"), to: try id("Failed"), kind: .next),
        ]
        #expect(workflow.edges == expected)
    }

    // MARK: Defaults

    @Test func retryEntriesGetTheDefaultsOfDecision0009WhereNothingIsWritten() throws {
        let workflow = try Self.compile(Self.checkout)
        let retry = try #require(workflow.state(named: "Reserve")?.task?.retry)
        try #require(retry.count == 2)
        // Written: Exceptions only.
        #expect(retry[0].exceptions == ["NetworkError"])
        #expect(retry[0].intervalSeconds == 1)
        #expect(retry[0].maxAttempts == 3)
        #expect(retry[0].backoffRate == 1)
        #expect(retry[0].maxDelaySeconds == nil)
        #expect(retry[0].jitter == .none)
        // Written: everything, so no default may win over it.
        #expect(retry[1] == RetryPolicy(exceptions: ["HTTP.5xx"], intervalSeconds: 0.5, maxAttempts: 2,
                                        backoffRate: 2, maxDelaySeconds: 4, jitter: .full))
    }

    @Test func taskFlagsAreFilledInOrTakenAsWritten() throws {
        let workflow = try Self.compile(Self.checkout)
        let reserve = try #require(workflow.state(named: "Reserve"))
        let review = try #require(workflow.state(named: "Review"))
        let release = try #require(workflow.state(named: "Release"))
        // IsForUpdate is implied by CompensateState, and false otherwise.
        #expect(reserve.task?.isForUpdate == true)
        #expect(review.task?.isForUpdate == false)
        // IsPersist defaults to true; IsAsync to false; no TimeoutSeconds means no deadline.
        #expect(reserve.task?.isPersist == true)
        #expect(review.task?.isPersist == false)
        #expect(reserve.task?.timeoutSeconds == nil)
        #expect(review.task?.timeoutSeconds == 2.5)
        guard case .serviceTask(let reserveSpec) = reserve.kind, case .serviceTask(let reviewSpec) = review.kind else {
            Issue.record("Reserve and Review must be service tasks")
            return
        }
        #expect(reserveSpec.isAsync == false)
        #expect(reviewSpec.isAsync == true)
        #expect(reserveSpec.serviceName == "inventory" && reserveSpec.serviceMethod == "reserve")
        #expect(reserveSpec.serviceType == nil)
        // A state named by a CompensateState is a compensation state without saying so.
        #expect(release.isForCompensation)
        #expect(!reserve.isForCompensation && !review.isForCompensation)
        // Workflow-level defaults.
        #expect(workflow.recoverStrategy == .compensate)
        #expect(workflow.services.isEmpty)
        guard case .fail(let fail) = try #require(workflow.state(named: "Failed")).kind else {
            Issue.record("Failed is not a Fail state")
            return
        }
        #expect(fail.errorCode == "OUT_OF_STOCK" && fail.message == nil)
    }

    // MARK: Source ranges

    @Test func statesBranchesRoutesAndExpressionsPointBackToTheFile() throws {
        let text = Self.checkout
        let workflow = try Self.compile(text)
        for state in workflow.states {
            #expect(state.range.start == (try Self.position(of: "  \(state.name):", in: text)).movedRight(by: 2),
                    "\(state.name)")
        }
        let reserve = try #require(workflow.state(named: "Reserve")?.task)
        #expect(reserve.catches.first?.range.start
                == (try Self.position(of: "- Exceptions: [ActionError", in: text)).movedRight(by: 2))
        // The expression leaf points at its text, inside the quotes, for runtime messages.
        guard case .object(let argument) = try #require(reserve.input.first),
              case .expression(_, let leafText, let leafRange) = try #require(argument.first?.value)
        else {
            Issue.record("Input[0].orderId is not an expression: \(reserve.input)")
            return
        }
        #expect(leafText == "$.[orderId]")
        #expect(leafRange == SourceRange(at: try Self.position(of: "$.[orderId]", in: text), length: 11))
        guard case .choice(let choice) = try #require(workflow.state(named: "Route")).kind else {
            Issue.record("Route is not a Choice")
            return
        }
        #expect(choice.branches.first?.range.start == (try Self.position(of: "\"[amount] > 100\"", in: text)))
    }

    // MARK: Fingerprint

    static func fingerprint(_ text: String) throws -> String { try compile(text).fingerprint }

    @Test func theSameTextHasTheSameFingerprint() throws {
        let first = try Self.fingerprint(Self.checkout)
        #expect(first.count == 64)
        #expect(first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try Self.fingerprint(Self.checkout) == first)
    }

    /// The fingerprint is a hash of the document's canonical text: formatting, comments and
    /// quoting are not part of it.
    @Test func formattingAndCommentsDoNotChangeTheFingerprint() throws {
        let original = try Self.fingerprint(Self.checkout)
        let commented = "# the checkout saga\n" + Self.checkout.replacingOccurrences(
            of: "ServiceMethod: reserve", with: "ServiceMethod: reserve   # takes stock")
        // Everything under `States` two columns further right, and blank lines at the end.
        let reindented = Self.checkout.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.hasPrefix(" ") ? "  " + line : line }
            .joined(separator: "\n") + "\n\n"
        let restyled = Self.checkout
            .replacingOccurrences(of: "ErrorCode: OUT_OF_STOCK", with: "ErrorCode: \"OUT_OF_STOCK\"")
            .replacingOccurrences(of: "  Done:\n    Type: Succeed", with: "  Done: { Type: Succeed }")
            .replacingOccurrences(of: "[{ orderId: \"$.[orderId]\", source: web }]",
                                  with: "[ {orderId: '$.[orderId]',   source: \"web\"} ]")
        for variant in [commented, reindented, restyled] {
            #expect(variant != Self.checkout)
            #expect(try Self.fingerprint(variant) == original, "\(variant)")
        }
    }

    @Test(arguments: [
        ("[amount] > 100", "[amount] > 200"),
        ("MaxAttempts: 2", "MaxAttempts: 5"),
        ("Default: Done", "Default: Review"),
        ("IsAsync: true", "IsAsync: false"),
    ])
    func aChangeOfMeaningChangesTheFingerprint(_ written: String, _ changed: String) throws {
        let variant = Self.checkout.replacingOccurrences(of: written, with: changed)
        #expect(variant != Self.checkout)
        #expect(try Self.fingerprint(variant) != (try Self.fingerprint(Self.checkout)))
    }

    /// Mapping order is kept: the first matching `Status` row wins, so swapping two rows is a
    /// change of meaning.
    @Test func swappingStatusRowsChangesTheFingerprint() throws {
        func workflow(_ rows: String) -> String {
            """
            StartState: Call
            States:
              Call:
                Type: ServiceTask
                ServiceName: api
                ServiceMethod: call
                Status:
            \(rows)
                Next: Done
              Done:
                Type: Succeed
            """
        }
        let a = workflow("      \"[ok]\": SU\n      \"$Exception{Throwable}\": FA")
        let b = workflow("      \"$Exception{Throwable}\": FA\n      \"[ok]\": SU")
        #expect(try Self.fingerprint(a) != (try Self.fingerprint(b)))
    }
}

extension SourcePosition {
    func movedRight(by columns: Int) -> SourcePosition { SourcePosition(line: line, column: column + columns) }
}

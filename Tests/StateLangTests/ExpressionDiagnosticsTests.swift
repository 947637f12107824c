import Foundation
import Testing

@testable import StateLang

/// Expression diagnostics as the whole front end reports them: code, severity and the exact
/// place in the file (the fixtures check the line only).
@Suite("Pipeline: expression diagnostics")
struct ExpressionDiagnosticsTests {
    /// `$exception{` written in the three places a leaf or condition is parsed, with the
    /// line:column of its `$` (inside the quotes when quoted).
    static let lowercaseException = """
        Name: lowercase
        StartState: Call
        States:
          Call:
            Type: ServiceTask
            ServiceName: api
            ServiceMethod: call
            Input: [{ timedOut: "$exception{Timeout}" }]
            Output:
              failed: $exception{Throwable}
            Status:
              "$exception{HTTP.5xx}": UN
              "$Exception{Throwable}": FA
            Next: Done
          Done:
            Type: Succeed
        """

    @Test func lowerCaseExceptionIsAWarningAtTheDollarSign() throws {
        let result = WorkflowPipeline.compile(text: Self.lowercaseException, path: "lowercase.yaml")
        let found = result.diagnostics.filter { $0.code == .lowercaseExceptionExpression }
        // Input leaf (quoted, in a flow mapping), Output value (plain), Status key (quoted).
        #expect(found.map { $0.range.map { "\($0.start)" } } == ["8:26", "10:15", "12:8"])
        #expect(found.allSatisfy { $0.severity == .warning })
        #expect(found.allSatisfy { $0.code.id == "SL0503" })
        #expect(found.first?.message == "'$exception{' is accepted; the correct spelling is '$Exception{'")
        // A warning, not an error: the workflow still compiles, and matches as `$Exception{` does.
        let workflow = try #require(result.workflow, "\(result.diagnostics.map(\.message))")
        let status = try #require(workflow.state(named: "Call")?.task?.status.first)
        #expect(status.condition == .exception(pattern: "HTTP.5xx", lowercase: true))
    }

    @Test func theCorrectSpellingGetsNoWarning() {
        let fixed = Self.lowercaseException.replacingOccurrences(of: "$exception{", with: "$Exception{")
        let result = WorkflowPipeline.compile(text: fixed, path: "fixed.yaml")
        #expect(!result.diagnostics.contains { $0.code == .lowercaseExceptionExpression })
        #expect(result.workflow != nil)
    }

    /// The bug the fixture `sl0501-choice-expression-without-next.yaml` pins: an entry without
    /// `Next` had its expression skipped. Here with the exact column of the error.
    @Test func aChoicesEntryWithoutNextStillHasItsExpressionChecked() {
        let result = WorkflowPipeline.compile(text: """
            StartState: Route
            States:
              Route:
                Type: Choice
                Choices:
                  - Expression: "[a] == (1 +"
                Default: Done
              Done:
                Type: Succeed
            """, path: "choice.yaml")
        let described = result.diagnostics.map { "\($0.range.map { "\($0.start)" } ?? "file") \($0.code.id)" }
        // SL0202 at the entry; SL0501 just past the expression's text (at the closing
        // quote), where the missing operand should be.
        #expect(described == ["6:9 SL0202", "6:33 SL0501"])
        #expect(result.workflow == nil)
    }
}

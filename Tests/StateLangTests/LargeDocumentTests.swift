import Foundation
import Testing

@testable import StateLang

/// Large generated workflows load completely and correctly, and the parts of the front end that
/// compare every name with every other (did-you-mean suggestions) do a bounded amount of work.
///
/// Not timed: the reader keeps its open collections in `YAMLReader.Frame` objects mutated in
/// place (it used to copy a frame's entries on every child, quadratic in a debug build), and
/// rules that look up states do so through dictionaries. The suite's time limit only stops a
/// regression from hanging the run.
@Suite("Large documents", .timeLimit(.minutes(1)))
struct LargeDocumentTests {
    /// A chain `S0 → S1 → … → S<count>`; `S<count>` succeeds. `next` names each state's Next.
    static func chain(_ count: Int, next: (Int) -> String = { "S\($0 + 1)" }, extra: (Int) -> String = { _ in "" }) -> String {
        var text = "Name: big\nStartState: S0\nStates:\n"
        text.reserveCapacity(count * 120)
        for i in 0..<count {
            text += "  S\(i):\n    Type: ServiceTask\n    ServiceName: inventory\n    ServiceMethod: reserve\n"
            text += extra(i)
            text += "    Next: \(next(i))\n"
        }
        text += "  S\(count):\n    Type: Succeed\n"
        return text
    }

    @Test func fiveThousandStatesReadInOrderWithPositions() throws {
        let read = YAMLReader().read(Self.chain(5_000))
        #expect(read.diagnostics.isEmpty)
        let root = try #require(read.root)
        guard case .mapping(let top) = root.kind, let states = top.first(where: { $0.key == "States" }),
              case .mapping(let entries) = states.value.kind
        else {
            Issue.record("no States mapping")
            return
        }
        #expect(entries.count == 5_001)
        #expect(entries.map(\.key) == (0...5_000).map { "S\($0)" })
        // Each state takes 5 lines after the 3 header lines: S4999 starts on line 4 + 4999 * 5.
        #expect(entries[4_999].keyRange.start == SourcePosition(line: 4 + 4_999 * 5, column: 3))
        guard case .mapping(let last) = entries[4_999].value.kind else {
            Issue.record("S4999 is not a map")
            return
        }
        #expect(last.map(\.key) == ["Type", "ServiceName", "ServiceMethod", "Next"])
        #expect(last[3].value.scalar?.text == "S5000")
        #expect(last[3].value.range.start == SourcePosition(line: 4 + 4_999 * 5 + 4, column: 11))
    }

    @Test func fiveThousandStatesCompile() throws {
        let result = WorkflowPipeline.compile(text: Self.chain(5_000), path: "big.yaml")
        #expect(!result.hasErrors)
        let workflow = try #require(result.workflow)
        #expect(workflow.states.count == 5_001)
        #expect(workflow.states.last?.name == "S5000")
    }

    /// Duplicate keys in a large mapping are still found, each with a note at the first.
    @Test func duplicatesInALargeMapping() throws {
        var text = "Name: big\nStartState: S0\nStates:\n"
        for i in 0..<3_000 { text += "  S\(i % 1_500): {Type: Succeed}\n" }
        let read = YAMLReader().read(text)
        #expect(read.diagnostics.count == 1_500)
        #expect(read.diagnostics.allSatisfy { $0.code == .duplicateKey })
        #expect(read.diagnostics.last?.range?.start == SourcePosition(line: 3 + 3_000, column: 3))
        #expect(read.diagnostics.last?.notes.first?.range?.start == SourcePosition(line: 3 + 1_500, column: 3))
    }

    /// Every Next of 3,000 states is misspelt: every one is reported, the first ones with a
    /// suggestion, and the suggestions stop when the budget is spent instead of comparing
    /// 3,000 × 3,000 names.
    @Test func thousandsOfUnknownNamesAreAllReported() throws {
        let text = Self.chain(3_000, next: { "s\($0 + 1)x" }, extra: { "    CompensateState: Undo\($0)\n" })
        let result = WorkflowPipeline.compile(text: text, path: "typos.yaml")
        let unknownNext = result.diagnostics.filter { $0.code == .unknownNextState }
        let unknownCompensate = result.diagnostics.filter { $0.code == .unknownCompensateState }
        #expect(unknownNext.count == 3_000)
        #expect(unknownCompensate.count == 3_000)
        #expect(unknownNext.first?.message == "'Next' of 'S0' names 's1x', which is not a state; did you mean 'S1'?")
        let suggested = unknownNext.filter { $0.message.contains("did you mean") }.count
        #expect(suggested > 10 && suggested < 3_000)
        #expect(unknownNext.last?.hint?.contains("name one of the states") == true)
        #expect(result.workflow == nil)
    }

    @Test func suggesterSpendsAtMostItsBudget() {
        let names = (0..<1_000).map { "State\($0)" }
        var suggester = Suggester(names, budget: 100_000)
        var answers: [String?] = []
        for i in 0..<100 { answers.append(suggester.closest(to: "state\(i)x")) }
        #expect(answers.first == "State0")
        #expect(suggester.remainingWork >= 0)
        // A pass costs at least 1,000 (one per candidate) plus about 7 × 7 cells per compared
        // name: the budget runs out after a few answers, and the rest are nil.
        #expect(answers.compactMap { $0 }.count < 20)
        #expect(answers.last == .some(nil))
    }

    /// A plausible typo among few names is still found, however long the names.
    @Test func suggesterFindsTyposAndSkipsWhatCannotBeClose() {
        var suggester = Suggester(["ReserveStock", "CreateOrder", "Pay", String(repeating: "x", count: 10_000)])
        #expect(suggester.closest(to: "ReserveStok") == "ReserveStock")
        #expect(suggester.closest(to: "creatorder") == "CreateOrder")
        #expect(suggester.closest(to: "Pya") == "Pay")
        #expect(suggester.closest(to: "Refund") == nil)
        // 10,000 × 10,000 cells do not fit the default budget; the long name is not compared.
        #expect(suggester.closest(to: String(repeating: "x", count: 9_999) + "y") == nil)
    }

    /// 3,000 states that nothing reaches, each compensating the next: one warning each.
    @Test func thousandsOfUnreachableStates() throws {
        var text = "Name: big\nStartState: Start\nStates:\n  Start: {Type: Succeed}\n"
        for i in 0..<3_000 {
            text += "  U\(i): {Type: ServiceTask, ServiceName: inventory, ServiceMethod: m, CompensateState: U\(i + 1), Next: Start}\n"
        }
        text += "  U3000: {Type: ServiceTask, ServiceName: inventory, ServiceMethod: undo}\n"
        let result = WorkflowPipeline.compile(text: text, path: "unreachable.yaml")
        let unreachable = result.diagnostics.filter { $0.code == .unreachableState }
        #expect(unreachable.count == 3_001)
        #expect(unreachable.contains { $0.message == "state 'U7' is never run: it compensates 'U6', which no instance reaches" })
    }
}

import Testing

@testable import StateLang

/// The generator behind `sagactl bench --generate-workflow` and the micro-benchmarks: the
/// workflows it makes are clean (no diagnostic at all) and have exactly the states asked for.
@Suite("Synthetic workflows", .timeLimit(.minutes(1)))
struct SyntheticWorkflowTests {
    @Test(arguments: [4, 5, 9, 10, 57, 1_000])
    func compilesCleanWithTheExactCount(states: Int) throws {
        let result = WorkflowPipeline.compile(text: SyntheticWorkflow.yaml(states: states), path: "gen.yaml")
        #expect(result.diagnostics.map(\.message) == [])
        let workflow = try #require(result.workflow)
        #expect(workflow.states.count == states)
    }

    @Test func thousandStatesHaveEveryKind() throws {
        let workflow = try #require(WorkflowPipeline.compile(text: SyntheticWorkflow.yaml(states: 1_000), path: "gen.yaml").workflow)
        let types = Set(workflow.states.map(\.type))
        #expect(types == [.serviceTask, .choice, .succeed, .compensationTrigger, .fail])
        #expect(workflow.states.filter { $0.type == .serviceTask }.count > 700)
    }
}

import Benchmark
import Foundation
import Interpreter
import SQLiteStore
import StateLang

/// The hot paths of sagactl, each alone: evaluating an expression, the front end on a large
/// workflow, one transition through the engine with no I/O, and one group-committed batch on a
/// real SQLite file. End-to-end throughput is `sagactl bench` (BENCHMARKS.md).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        maxDuration: .seconds(5),
        maxIterations: 100_000)

    // MARK: Expressions

    let condition = try! Condition.parse("[points] != null && [points] > 0 && [amount] * 2 + 1 < [limit]")
    let root: JSONValue = ["points": 10, "amount": 250, "limit": 1_000, "userId": "u-17", "items": [1, 2, 3]]
    Benchmark("Expression: evaluate a condition", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Evaluator.test(condition, root: root, error: nil))
        }
    }

    Benchmark("Expression: parse a condition", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try Condition.parse("[points] != null && [points] > 0 && [amount] * 2 + 1 < [limit]"))
        }
    }

    // MARK: Front end

    let bigWorkflow = SyntheticWorkflow.yaml(states: 1_000)
    Benchmark("Workflow: read, validate and compile 1,000 states", configuration: .init(maxIterations: 200)) { benchmark in
        for _ in benchmark.scaledIterations {
            let result = WorkflowPipeline.compile(text: bigWorkflow, path: "big.yaml")
            precondition(result.workflow != nil, "the generated workflow does not compile")
            blackHole(result)
        }
    }

    // MARK: Engine

    let oneStep = """
        Name: one-step
        StartState: Call
        States:
          Call: { Type: ServiceTask, ServiceName: bench, ServiceMethod: call, Input: [{ order: "$.[order]" }], Next: Done }
          Done: { Type: Succeed }
        """
    let oneStepWorkflow = WorkflowPipeline.compile(text: oneStep, path: "one-step.yaml").workflow!
    let input: JSONValue = ["order": 42]

    Benchmark("Machine: start and complete one step (no I/O)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let now = Date()
        for _ in benchmark.scaledIterations {
            var machine = InstanceMachine(workflow: oneStepWorkflow, id: "bench-instance", input: input,
                                          businessKey: nil, now: now)
            machine.setLease(owner: .current, expiresAt: now.addingTimeInterval(30))
            blackHole(machine.handle(.start, now: now))
            blackHole(machine.handle(.actionCompleted(.success(["ok": true])), now: now))
        }
    }

    Benchmark("Engine: one saga of one step, in-memory store (2 transitions)") { benchmark in
        let engine = SagaEngine(store: InMemoryInstanceStore(), leaseDuration: 600)
        engine.register(oneStepWorkflow, source: oneStep)
        engine.localActions.register(service: "bench") { _ in .null }
        for _ in benchmark.scaledIterations {
            blackHole(try await engine.run(oneStepWorkflow, input: input))
        }
    }

    // MARK: SQLite group commit

    for durability in SQLiteInstanceStore.Durability.allCases {
        Benchmark("SQLite: one group-committed batch of 256 new instances (\(durability.rawValue))",
                  configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxIterations: 500)) { benchmark in
            let directory = NSTemporaryDirectory() + "saga-benchmarks-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try SQLiteInstanceStore(path: directory + "/bench.sqlite", durability: durability)
            try await store.saveDefinition(StoredDefinition(
                fingerprint: oneStepWorkflow.fingerprint, name: oneStepWorkflow.name, path: "one-step.yaml",
                source: oneStep, createdAt: Date()))
            for _ in benchmark.scaledIterations {
                let now = Date()
                let transitions = (0..<256).map { _ in
                    var machine = InstanceMachine(workflow: oneStepWorkflow, id: InstanceIDs.generate(now: now),
                                                  input: input, businessKey: nil, now: now)
                    machine.setLease(owner: .current, expiresAt: now.addingTimeInterval(30))
                    return machine.handle(.start, now: now).transition!
                }
                benchmark.startMeasurement()
                try await withThrowingTaskGroup(of: CreateOutcome.self) { group in
                    for transition in transitions {
                        group.addTask { try await store.createInstance(transition) }
                    }
                    for try await outcome in group { blackHole(outcome) }
                }
                benchmark.stopMeasurement()
            }
            try store.close()
        }
    }
}

import Foundation
import Interpreter
import StateLang
import Testing
@testable import Actions

enum HTTPTest {
    static func invocation(_ method: String = "reserve", input: JSONValue = ["productId": 1, "quantity": 2],
                           key: String = "key-1", timeout: Double? = nil, service: String = "inventory") -> Invocation {
        Invocation(instanceID: "inst-1", stateName: "ReserveStock", serviceName: service, serviceMethod: method,
                   serviceType: nil, input: input, idempotencyKey: key, attempt: 1, phase: .forward,
                   timeoutSeconds: timeout)
    }

    static func binding(_ url: String, name: String = "inventory", timeout: Double? = nil, headers: [String: String] = [:],
                        breaker: CircuitBreakerPolicy? = nil) -> ServiceBinding {
        ServiceBinding(name: name, kind: .http, url: url, timeoutSeconds: timeout, headers: headers, circuitBreaker: breaker)
    }

    static func configuration(environment: [String: String] = [:], maxResponseBytes: Int? = nil) -> HTTPAction.Configuration {
        var configuration = HTTPAction.Configuration()
        configuration.environment = { environment[$0] }
        if let maxResponseBytes { configuration.maxResponseBytes = maxResponseBytes }
        return configuration
    }

    /// An engine on an in-memory store whose `http` services go through `http`, with the
    /// workflow of `yaml` compiled and registered.
    static func engine(_ http: HTTPAction, clock: ManualClock, yaml: String, path: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> (SagaEngine, Workflow) {
        let engine = SagaEngine(store: InMemoryInstanceStore(), clock: clock,
                                owner: LeaseOwner(host: "test", pid: 1, nonce: path))
        engine.setHandler(http, for: .http)
        let compiled = WorkflowPipeline.compile(text: yaml, path: path)
        let workflow = try #require(compiled.workflow, "\(compiled.diagnostics)", sourceLocation: sourceLocation)
        engine.register(workflow, source: yaml)
        return (engine, workflow)
    }

    /// Runs `body` with an action, then shuts the action down (also when `body` throws).
    static func withAction<T: Sendable>(_ configuration: HTTPAction.Configuration = HTTPTest.configuration(),
                                        clock: any EngineClock = SystemClock(),
                                        _ body: (HTTPAction) async throws -> T) async throws -> T {
        let action = HTTPAction(configuration: configuration, clock: clock)
        let result: T
        do {
            result = try await body(action)
        } catch {
            try await action.shutdown()
            throw error
        }
        try await action.shutdown()
        return result
    }

    /// The failure of an outcome; records an issue when it succeeded.
    static func failure(_ outcome: ActionOutcome, sourceLocation: SourceLocation = #_sourceLocation) -> ActionFailure? {
        switch outcome {
        case .failure(let failure): return failure
        case .success(let value):
            Issue.record("expected a failure, got success(\(value))", sourceLocation: sourceLocation)
            return nil
        }
    }
}
